"""Messages of the incidents app, one function per kind, each with a stable dedupe key.

Requesters get only the public text the incident manager wrote for them (both languages when
both were written), never internal notes.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.models import User
from notifications.choices import Channel
from notifications.services import NotificationSpec, notify_many
from tickets.models import Ticket

REQUESTER_CHANNELS = (Channel.INBOX, Channel.EMAIL)


def _linked_requesters(incident) -> list[User]:
    ids = (
        Ticket.objects.filter(incident_id=incident.ticket_id)
        .values_list("requester_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=ids, is_active=True))


def _both(zh: str, en: str) -> str:
    return "\n\n".join(part for part in (zh, en) if part)


def notify_progress(*, incident, update) -> int:
    """A progress update to every linked requester; returns how many were told."""
    recipients = _linked_requesters(incident)
    notify_many(
        [
            NotificationSpec(
                dedupe_key=f"incident:{incident.pk}:update:{update.pk}",
                recipients=recipients,
                subject=_("Progress on the fault: %(title)s") % {"title": incident.title},
                body=_both(update.body_zh, update.body_en),
                url="/status/",
                channels=REQUESTER_CHANNELS,
                internal=False,
            )
        ]
    )
    return len(recipients)


def notify_recovered(*, incident, update) -> int:
    """The recovery to every linked requester, asking them to confirm their request."""
    recipients = _linked_requesters(incident)
    body = _both(update.body_zh, update.body_en)
    body += "\n\n" + _(
        "Your request linked to this fault was resolved with it. Please confirm on the portal, "
        "or say it is not fixed."
    )
    notify_many(
        [
            NotificationSpec(
                dedupe_key=f"incident:{incident.pk}:recovered",
                recipients=recipients,
                subject=_("Recovered: %(title)s") % {"title": incident.title},
                body=body,
                url="/portal/",
                channels=REQUESTER_CHANNELS,
                internal=False,
            )
        ]
    )
    return len(recipients)
