"""Operation-log entries the incidents app writes (kinds `incident.*`)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from tickets.choices import ActorKind
from tickets.events import event_record
from tickets.models import Ticket, TicketEvent

DECLARED = "incident.declared"
UPDATE = "incident.update"
OUTAGE = "incident.outage_announced"
RECOVERED = "incident.recovered"
AFFECTED = "incident.affected_too"


def incident_declared(*, incident, actor) -> None:
    event_record(
        ticket=incident.ticket,
        kind=DECLARED,
        actor=actor,
        is_public=False,
        message=_("Declared a major incident (lead: %(lead)s).")
        % {"lead": incident.lead.get_full_name() or incident.lead.username},
        data={"incident_id": incident.pk},
    )


def progress_posted(*, incident, update, actor) -> None:
    """On the incident's ticket and, as a public entry, on every linked ticket (one insert)."""
    message = "\n\n".join(part for part in (update.body_zh, update.body_en) if part)
    event_record(ticket=incident.ticket, kind=UPDATE, actor=actor, message=message)
    linked = Ticket.objects.filter(incident_id=incident.ticket_id).values_list("pk", flat=True)
    TicketEvent.objects.bulk_create(
        [
            TicketEvent(
                ticket_id=pk,
                kind=UPDATE,
                actor=None,
                actor_kind=ActorKind.SYSTEM,
                message=message,
                is_public=True,
                data={"incident_id": incident.pk, "update_id": update.pk},
            )
            for pk in linked.iterator(chunk_size=2000)
        ],
        batch_size=1000,
    )


def outage_announced(*, incident, actor) -> None:
    event_record(
        ticket=incident.ticket,
        kind=OUTAGE,
        actor=actor,
        message=_("Outage announcement published on the portal."),
        data={"incident_id": incident.pk},
    )


def recovered(*, incident, actor) -> None:
    event_record(
        ticket=incident.ticket,
        kind=RECOVERED,
        actor=actor,
        message=_("Recovery announcement published; the outage announcement ended."),
        data={"incident_id": incident.pk},
    )
