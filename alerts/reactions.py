"""How the alerts app reacts to the ticket core (connected in `AlertsConfig.ready()`)."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from tickets import services as ticket_services
from tickets import wiring
from tickets.choices import Status
from tickets.services import taken_by_an_agent

from .models import Alert

logger = logging.getLogger(__name__)


def on_ticket_created(*, ticket_id: int, **payload) -> None:
    """After routing: an alert ticket whose mapping rule names a team goes to that team's
    queue, unassigned (routing chose from the text; the rule knows who owns what the monitor
    watches), unless a person has already acted on it."""
    alert = (
        Alert.objects.filter(ticket_id=ticket_id, opened_ticket=True, rule__team__isnull=False)
        .select_related("rule__team", "ticket")
        .first()
    )
    if alert is None:
        return
    ticket, team = alert.ticket, alert.rule.team
    if ticket.team_id == team.pk or ticket.status not in (Status.QUEUED, Status.IN_PROGRESS):
        return
    if taken_by_an_agent(ticket):
        return  # a person already works on it: leave it where they put it
    try:
        ticket_services.ticket_dispatch(
            ticket_id=ticket.pk,
            actor=None,
            team=team,
            reason=_("Mapping rule '%(rule)s' of the monitoring alert") % {"rule": alert.rule.name},
        )
    except Exception:
        logger.exception("could not dispatch alert ticket %s to %s", ticket_id, team)


def on_tickets_created(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form (intake drain): one query finds the batch's alert tickets with a team
    in their mapping rule; only those go through `on_ticket_created`."""
    ids = [payload["ticket_id"] for payload in payloads]
    mapped = set(
        Alert.objects.filter(
            ticket_id__in=ids, opened_ticket=True, rule__team__isnull=False
        ).values_list("ticket_id", flat=True)
    )
    return wiring.run_each(on_ticket_created, payloads, only=mapped) if mapped else {}
