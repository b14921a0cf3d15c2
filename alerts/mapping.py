"""Mapping an alert's labels onto the desk's taxonomy: system, module, request type, team,
impact and urgency (PRODUCT.md §4). The first active rule whose matchers all hold wins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from catalog.models import InformationSystem, RequestType, SystemModule
from tickets import reactions
from tickets.choices import Impact

from .choices import DEFAULT_URGENCY, SEVERITY_URGENCY
from .models import Integration, MappingRule

OPERATORS = ("=", "!=", "=~", "!~")


@dataclass
class Mapping:
    rule: MappingRule | None
    system: InformationSystem | None
    module: SystemModule | None
    request_type: RequestType | None
    team_id: int | None
    impact: int
    urgency: int


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern:
    # Alertmanager anchors its regular expressions.
    return re.compile(f"^(?:{pattern})$")


def validate_matchers(matchers) -> None:
    """Raise ValidationError unless `matchers` is a list of [label, op, value]."""
    if not isinstance(matchers, list):
        raise ValidationError({"matchers": [_("A list of [label, operator, value].")]})
    for item in matchers:
        if (
            not isinstance(item, list | tuple)
            or len(item) != 3
            or not all(isinstance(part, str) for part in item)
            or item[1] not in OPERATORS
        ):
            raise ValidationError(
                {"matchers": [_("Each matcher is [label, one of = != =~ !~, value].")]}
            )
        if item[1] in ("=~", "!~"):
            try:
                _regex(item[2])
            except re.error as exc:
                raise ValidationError({"matchers": [str(exc)]}) from exc


def matches(matchers: list, labels: dict[str, str]) -> bool:
    for label, op, value in matchers:
        actual = labels.get(label, "")
        if op == "=" and actual != value:
            return False
        if op == "!=" and actual == value:
            return False
        if op == "=~" and not _regex(value).match(actual):
            return False
        if op == "!~" and _regex(value).match(actual):
            return False
    return True


def _rules(integration_id: int) -> list[MappingRule]:
    return reactions.memo(
        ("alerts.rules", integration_id),
        lambda: list(
            MappingRule.objects.filter(is_active=True)
            .filter(Q(integration_id=integration_id) | Q(integration__isnull=True))
            .select_related("system", "module__system", "request_type")
            .order_by("order", "id")
        ),
    )


def _fault_type() -> RequestType | None:
    return reactions.memo(
        "alerts.fault_type", lambda: RequestType.objects.filter(code="fault").first()
    )


def map_alert(integration: Integration, labels: dict[str, str], rules=None) -> Mapping:
    """Where this alert's ticket belongs. Impact defaults to moderate and is raised to
    extensive by routing for a fault of a core system, so only critical severity on a core
    system reaches P1."""
    candidates = rules if rules is not None else _rules(integration.pk)
    rule = next((r for r in candidates if matches(r.matchers, labels)), None)
    severity = labels.get("severity", "").lower()
    urgency = SEVERITY_URGENCY.get(severity, DEFAULT_URGENCY)
    if rule is None:
        return Mapping(None, None, None, _fault_type(), None, Impact.MODERATE, urgency)
    module = rule.module
    system = rule.system or (module.system if module else None)
    return Mapping(
        rule=rule,
        system=system,
        module=module,
        request_type=rule.request_type or _fault_type(),
        team_id=rule.team_id,
        impact=rule.impact or Impact.MODERATE,
        urgency=rule.urgency or urgency,
    )
