"""Operation-log entries the alerts app writes on tickets (kinds `alert.*`). Internal to the
desk: the requester of an alert ticket is the integration's own account."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.events import EventRow, event_record, event_row
from tickets.models import Ticket

REPEATED = "alert.repeated"
RECOVERED = "alert.recovered"
REFIRED = "alert.refired"
STORM_JOINED = "alert.storm_joined"
TRUNCATED = "alert.truncated"


def alert_repeated_row(*, ticket: Ticket, alert) -> EventRow:
    """The log row of a repeat, unsaved: a delivery writes its repeats in one INSERT."""
    row = event_row(
        ticket=ticket,
        kind=REPEATED,
        is_public=False,
        message=_("The alert %(name)s was delivered again (%(n)d times).")
        % {"name": alert.alertname or alert.fingerprint, "n": alert.count},
        data={"fingerprint": alert.fingerprint, "count": alert.count},
        created_at=timezone.now(),
    )
    row.new_value = alert.count
    return row


def alert_recovered(*, ticket: Ticket, alert) -> None:
    event_record(
        ticket=ticket,
        kind=RECOVERED,
        is_public=True,
        message=_("The monitoring alert %(name)s recovered.")
        % {"name": alert.alertname or alert.fingerprint},
        data={"fingerprint": alert.fingerprint, "ends_at": alert.ends_at.isoformat()},
    )


def alert_refired(*, ticket: Ticket, alert) -> None:
    event_record(
        ticket=ticket,
        kind=REFIRED,
        is_public=False,
        message=_("The alert %(name)s fired again (started %(time)s).")
        % {"name": alert.alertname or alert.fingerprint, "time": alert.starts_at.isoformat()},
        data={"fingerprint": alert.fingerprint},
    )


def alert_joined_storm(*, ticket: Ticket, alert) -> None:
    event_record(
        ticket=ticket,
        kind=STORM_JOINED,
        is_public=False,
        message=_("Alert %(name)s (%(fp)s) joined this storm.")
        % {"name": alert.alertname or alert.fingerprint, "fp": alert.fingerprint},
        data={"fingerprint": alert.fingerprint, "labels": alert.labels},
    )
