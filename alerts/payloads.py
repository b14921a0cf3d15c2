"""Parsing what senders deliver into one shape (`Incoming`), with field-level errors.

Alertmanager webhook payload version 4, Grafana's contact-point webhook (version 1, the same
alert list with extra fields) and the desk's own signed JSON webhook. A `PayloadError` is a
payload that can never succeed (the receiver answers 400 with its field messages).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import AlertStatus

MAX_ALERTS = 5000
# Alertmanager's "no end time": year 1.
ZERO_TIME_PREFIX = "0001-01-01"
# The generic webhook's occurrence time when the sender has none: dedupe by fingerprint only.
NO_START = datetime(1970, 1, 1, tzinfo=UTC)


class PayloadError(Exception):
    """The payload is malformed; `errors` maps a field path to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass
class IncomingAlert:
    fingerprint: str
    starts_at: datetime
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str = ""
    ends_at: datetime | None = None

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "").lower()


@dataclass
class Incoming:
    """One delivery: its group, its alerts, what the sender left out."""

    alerts: list[IncomingAlert]
    group_key: str = ""
    status: str = ""
    truncated_alerts: int = 0
    external_url: str = ""
    # Chat bots: who asked, and their words (the alert fields stay empty).
    requester_hint: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def parse_time(value: Any, path: str, errors: dict) -> datetime | None:
    if not isinstance(value, str) or not value:
        errors.setdefault(path, []).append(_("An RFC 3339 time is required."))
        return None
    if value.startswith(ZERO_TIME_PREFIX):
        return None
    text = value.replace("Z", "+00:00")
    # Python keeps microseconds: Alertmanager sends nanoseconds.
    if "." in text:
        head, rest = text.split(".", 1)
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        errors.setdefault(path, []).append(_("Not an RFC 3339 time."))
        return None
    if parsed.tzinfo is None:
        errors.setdefault(path, []).append(_("The time needs a zone."))
        return None
    return parsed


def _str_map(value: Any, path: str, errors: dict) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        errors.setdefault(path, []).append(_("Must be an object of strings."))
        return {}
    return value


def _alert(raw: Any, path: str, errors: dict) -> IncomingAlert | None:
    if not isinstance(raw, dict):
        errors.setdefault(path, []).append(_("Must be an object."))
        return None
    before = len(errors)
    status = raw.get("status")
    if status not in AlertStatus.values:
        errors.setdefault(f"{path}.status", []).append(_("Must be firing or resolved."))
    labels = _str_map(raw.get("labels"), f"{path}.labels", errors)
    annotations = _str_map(raw.get("annotations"), f"{path}.annotations", errors)
    fingerprint = raw.get("fingerprint")
    if not fingerprint and labels:
        # Grafana before 9.x and some relays leave it out: the label set identifies the alert.
        fingerprint = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
    if not isinstance(fingerprint, str) or not fingerprint or len(fingerprint) > 128:
        errors.setdefault(f"{path}.fingerprint", []).append(_("A fingerprint is required."))
    starts_at = parse_time(raw.get("startsAt"), f"{path}.startsAt", errors)
    if starts_at is None and f"{path}.startsAt" not in errors:
        errors.setdefault(f"{path}.startsAt", []).append(_("A start time is required."))
    ends_raw = raw.get("endsAt")
    ends_at = parse_time(ends_raw, f"{path}.endsAt", errors) if ends_raw else None
    url = raw.get("generatorURL") or ""
    if not isinstance(url, str) or len(url) > 1000:
        errors.setdefault(f"{path}.generatorURL", []).append(_("Must be a URL."))
    if len(errors) != before:
        return None
    if not url.startswith(("http://", "https://")):
        url = ""
    return IncomingAlert(
        fingerprint=fingerprint,
        starts_at=starts_at,
        status=status,
        labels=labels,
        annotations=annotations,
        generator_url=url,
        ends_at=ends_at,
    )


def _alert_list(body: dict, errors: dict) -> list[IncomingAlert]:
    raw_alerts = body.get("alerts")
    if not isinstance(raw_alerts, list):
        errors.setdefault("alerts", []).append(_("A list of alerts is required."))
        return []
    if len(raw_alerts) > MAX_ALERTS:
        errors.setdefault("alerts", []).append(_("Too many alerts in one delivery."))
        return []
    alerts = [_alert(raw, f"alerts[{i}]", errors) for i, raw in enumerate(raw_alerts)]
    return [a for a in alerts if a is not None]


def _truncated(body: dict, errors: dict) -> int:
    value = body.get("truncatedAlerts", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        errors.setdefault("truncatedAlerts", []).append(_("Must be a whole number."))
        return 0
    return value


def parse_alertmanager(body: Any) -> Incoming:
    """Alertmanager's webhook payload, version 4 (the only one it has sent since 0.6)."""
    if not isinstance(body, dict):
        raise PayloadError({"non_field_errors": [_("A JSON object is required.")]})
    errors: dict[str, list[str]] = {}
    if body.get("version") != "4":
        errors["version"] = [_("Unknown payload version; version 4 is supported.")]
        raise PayloadError(errors)
    return _incoming(body, errors)


def parse_grafana(body: Any) -> Incoming:
    """Grafana alerting's webhook contact point (payload version 1)."""
    if not isinstance(body, dict):
        raise PayloadError({"non_field_errors": [_("A JSON object is required.")]})
    errors: dict[str, list[str]] = {}
    if body.get("version") not in ("1", 1):
        errors["version"] = [_("Unknown payload version; version 1 is supported.")]
        raise PayloadError(errors)
    return _incoming(body, errors)


def _incoming(body: dict, errors: dict) -> Incoming:
    alerts = _alert_list(body, errors)
    group_key = body.get("groupKey") or ""
    if not isinstance(group_key, str):
        errors.setdefault("groupKey", []).append(_("Must be a string."))
    truncated = _truncated(body, errors)
    if errors:
        raise PayloadError(errors)
    return Incoming(
        alerts=alerts,
        group_key=group_key[:500],
        status=str(body.get("status") or ""),
        truncated_alerts=truncated,
        external_url=str(body.get("externalURL") or "")[:500],
    )


def parse_signed_webhook(body: Any, *, idempotency_key: str) -> Incoming:
    """The desk's own JSON webhook (docs/alerts.md): a monitor's alert or a chat bot's request.

    `{"title": ..., "text": ..., "severity": ..., "status": "firing"|"resolved",
    "fingerprint": ..., "startsAt": ..., "labels": {...}, "url": ..., "requester": ...}`
    """
    if not isinstance(body, dict):
        raise PayloadError({"non_field_errors": [_("A JSON object is required.")]})
    errors: dict[str, list[str]] = {}
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        errors["title"] = [_("A title is required.")]
    text = body.get("text", "")
    if not isinstance(text, str):
        errors["text"] = [_("Must be a string.")]
    labels = _str_map(body.get("labels"), "labels", errors)
    status = body.get("status", AlertStatus.FIRING)
    if status not in AlertStatus.values:
        errors["status"] = [_("Must be firing or resolved.")]
    severity = body.get("severity", "")
    if not isinstance(severity, str):
        errors["severity"] = [_("Must be a string.")]
    fingerprint = body.get("fingerprint") or ""
    if not isinstance(fingerprint, str) or len(fingerprint) > 128:
        errors["fingerprint"] = [_("At most 128 characters.")]
    starts_raw = body.get("startsAt")
    starts_at = parse_time(starts_raw, "startsAt", errors) if starts_raw else NO_START
    requester = body.get("requester", "")
    if not isinstance(requester, str):
        errors["requester"] = [_("Must be a user name or e-mail address.")]
    url = body.get("url", "")
    if not isinstance(url, str):
        errors["url"] = [_("Must be a URL.")]
    if errors:
        raise PayloadError(errors)
    if not fingerprint:
        # Without the sender's own key the Idempotency-Key is the alert's identity.
        fingerprint = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    labels = {**labels, "alertname": labels.get("alertname") or title.strip()[:200]}
    if severity:
        labels["severity"] = severity
    return Incoming(
        alerts=[
            IncomingAlert(
                fingerprint=fingerprint,
                starts_at=starts_at or timezone.now(),
                status=status,
                labels=labels,
                annotations={"summary": title.strip(), "description": text},
                generator_url=url if url.startswith(("http://", "https://")) else "",
            )
        ],
        status=status,
        requester_hint=requester.strip(),
    )
