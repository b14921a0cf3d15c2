"""The SLA engine's messages: warning and breach texts and their notification specs."""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from notifications.services import NotificationSpec
from tickets.models import Ticket

from ..choices import Metric
from ..models import (
    SlaTimer,
)


def _ticket_url(ticket: Ticket) -> str:
    base = settings.SERVICEDESK.get("PUBLIC_BASE_URL", "").rstrip("/")
    if not _PLAIN_NUMBER.fullmatch(ticket.number):
        return base + reverse("workspace:ticket", kwargs={"number": ticket.number})
    # A sweep links thousands of tickets: the URL resolver runs once per process, not per link.
    head, _placeholder, tail = _ticket_path(get_script_prefix(), get_urlconf()).partition(_NUMBER)
    return base + head + ticket.number + tail


# Numbers the URL needs no quoting for (the desk's own, SD-2026-000123).
_PLAIN_NUMBER = re.compile(r"[A-Za-z0-9._-]+")
_NUMBER = "NUMBER"


@functools.lru_cache(maxsize=8)
def _ticket_path(prefix: str, urlconf: str | None) -> str:
    return reverse("workspace:ticket", kwargs={"number": _NUMBER})


def _specs(timer, level, users, subject, body, ticket, *, step: int = 0) -> list:
    """Inbox + e-mail to each distinct user, and the team's chat webhooks, deduplicated per
    timer, level, step and deadline: a re-run of the same breach sends nothing, while a new
    deadline (after a recalculation or a reopen) that is missed again is news."""
    deadline = int(timer.due_at.timestamp()) if timer.due_at else 0
    key = f"sla:{timer.pk}:{level}:{step}:{deadline}"
    recipients = []
    for user in users:
        if user is not None and user.pk not in {u.pk for u in recipients}:
            recipients.append(user)
    return [
        NotificationSpec(
            dedupe_key=key,
            recipients=recipients,
            subject=subject,
            body=body,
            url=_ticket_url(ticket),
            team_id=ticket.team_id,
            ticket_id=ticket.pk,
        )
    ]


def _metric_label(timer: SlaTimer) -> str:
    return _label(timer.metric, get_language())


@functools.lru_cache(maxsize=64)
def _label(metric: str, language: str | None) -> str:
    # The sweep formats thousands of messages: translate each label once per language.
    return str(Metric(metric).label)


def _warning_subject(timer: SlaTimer) -> str:
    return _("[%(number)s] %(metric)s due soon") % {
        "number": timer.ticket.number,
        "metric": _metric_label(timer),
    }


def _warning_text(timer: SlaTimer) -> str:
    due = timezone.localtime(timer.due_at).strftime("%Y-%m-%d %H:%M") if timer.due_at else ""
    return _("%(metric)s of %(number)s (%(priority)s) is due at %(due)s: %(title)s") % {
        "metric": _metric_label(timer),
        "number": timer.ticket.number,
        "priority": timer.priority,
        "due": due,
        "title": timer.ticket.title,
    }


def _breach_subject(timer: SlaTimer) -> str:
    if timer.metric == Metric.PROGRESS_UPDATE:
        return _("[%(number)s] progress update overdue") % {"number": timer.ticket.number}
    return _("[%(number)s] %(metric)s SLA breached") % {
        "number": timer.ticket.number,
        "metric": _metric_label(timer),
    }


def _breach_text(timer: SlaTimer) -> str:
    due = timezone.localtime(timer.due_at).strftime("%Y-%m-%d %H:%M") if timer.due_at else ""
    return _("%(metric)s of %(number)s (%(priority)s) was due at %(due)s: %(title)s") % {
        "metric": _metric_label(timer),
        "number": timer.ticket.number,
        "priority": timer.priority,
        "due": due,
        "title": timer.ticket.title,
    }
