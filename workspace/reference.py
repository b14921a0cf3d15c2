"""The desk's reference lists as a queue page shows them: teams, request types, information
systems and organisation units (the filter form's options, the queue rows' labels).

Every queue page needs all four (a few hundred rows); reading and building them was five
queries and a tenth of the page's time (docs/benchmarks.md, "Queue pages (item 2)"). They change
rarely, so each process keeps them, keyed by a fingerprint of the four tables' contents that
one small query reads on every page: any change (admin, import, SQL) gives another
fingerprint, and the next page reloads them. No signal or cache to invalidate.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from threading import Lock

from django.db import connection
from django.utils.translation import get_language

from accounts.models import OrgUnit, Team
from catalog.models import InformationSystem, RequestType
from servicedesk.prepared import execute_prepared

_TABLES = (Team, RequestType, InformationSystem, OrgUnit)
# hashtext of each row's text form, summed: the same for the same contents in any order.
# Table names from the models, no input: nothing to inject.
_SUM = "(SELECT coalesce(sum(hashtext(r::text)), 0) FROM {} r)"  # nosec B608
_FINGERPRINT_SQL = "SELECT " + ", ".join(_SUM.format(m._meta.db_table) for m in _TABLES)


@dataclass
class Labels:
    """The lists in one language: id → label, and the filter form's choices."""

    fingerprint: tuple  # of the lists' contents (the same lists, the same fingerprint)
    teams: dict[int, str]
    tiers: dict[int, str]  # team id → tier code
    request_types: dict[int, str]
    systems: dict[int, str]
    units: dict[int, str]
    team_choices: list[tuple[int, str]]
    request_type_choices: list[tuple[str, str]]
    system_choices: list[tuple[int, str]]
    unit_choices: list[tuple[int, str]]
    # The labels HTML-escaped, for the queue rows: {"teams": {id: escaped label}, ...}.
    escaped: dict[str, dict[int, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("teams", "request_types", "systems", "units"):
            self.escaped[name] = {pk: html.escape(text) for pk, text in getattr(self, name).items()}


@dataclass
class _Snapshot:
    fingerprint: tuple
    rows: dict[str, list[tuple]]
    by_language: dict[str, Labels] = field(default_factory=dict)


_snapshot: _Snapshot | None = None
_lock = Lock()


def _load(fingerprint: tuple) -> _Snapshot:
    return _Snapshot(
        fingerprint=fingerprint,
        rows={
            "teams": list(
                Team.objects.order_by("tier", "code").values_list("pk", "name", "name_zh", "tier")
            ),
            "request_types": list(
                RequestType.objects.order_by("sort_order", "code").values_list(
                    "pk", "name", "name_zh", "code", "is_active"
                )
            ),
            "systems": list(
                InformationSystem.objects.order_by("code").values_list(
                    "pk", "name", "name_zh", "is_active"
                )
            ),
            "units": list(
                OrgUnit.objects.order_by("path").values_list("pk", "name", "name_zh", "depth")
            ),
        },
    )


def _labels(fingerprint: tuple, rows: dict[str, list[tuple]], chinese: bool) -> Labels:
    def label(name: str, name_zh: str) -> str:
        # As LocalizedNameMixin.label.
        return name_zh if chinese and name_zh else name

    teams = [(pk, label(n, z), tier) for pk, n, z, tier in rows["teams"]]
    types = [(pk, label(n, z), code, active) for pk, n, z, code, active in rows["request_types"]]
    systems = [(pk, label(n, z), active) for pk, n, z, active in rows["systems"]]
    units = [(pk, label(n, z), depth) for pk, n, z, depth in rows["units"]]
    return Labels(
        fingerprint=fingerprint,
        teams={pk: text for pk, text, _tier in teams},
        tiers={pk: tier for pk, _text, tier in teams},
        request_types={pk: text for pk, text, _code, _active in types},
        systems={pk: text for pk, text, _active in systems},
        units={pk: text for pk, text, _depth in units},
        team_choices=[(pk, text) for pk, text, _tier in teams],
        request_type_choices=[(code, text) for _pk, text, code, active in types if active],
        system_choices=[(pk, text) for pk, text, active in systems if active],
        unit_choices=[(pk, "\u2003" * (depth - 1) + text) for pk, text, depth in units],
    )


def reference_labels() -> Labels:
    """The four lists in the active language; one query when nothing changed."""
    global _snapshot
    with connection.cursor() as cursor:
        # Every page with the filters: prepared once per database session.
        execute_prepared(cursor, "workspace_reference_fingerprint", _FINGERPRINT_SQL, [])
        fingerprint = tuple(cursor.fetchone())
    snapshot = _snapshot
    if snapshot is None or snapshot.fingerprint != fingerprint:
        snapshot = _load(fingerprint)
        with _lock:
            _snapshot = snapshot
    chinese = (get_language() or "").startswith("zh")
    key = "zh" if chinese else "en"
    labels = snapshot.by_language.get(key)
    if labels is None:
        labels = snapshot.by_language[key] = _labels(fingerprint, snapshot.rows, chinese)
    return labels


def options_html(choices, selected: set[str]) -> str:
    """The <option>s of a select, every value and label escaped (as `desk.select_options`)."""
    parts = []
    for value, label in choices:
        key = "" if value is None else str(value)
        mark = " selected" if key in selected else ""
        text = label.__html__() if hasattr(label, "__html__") else html.escape(str(label))
        parts.append(f'<option value="{html.escape(key)}"{mark}>{text}</option>')
    return "".join(parts)
