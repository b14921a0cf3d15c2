"""Messages the feedback app sends, one function per kind (`notifications.kinds`).

Survey messages go to the requester, so they carry only public facts (number and title) and
the survey's one-click link; like every notification they are stored as kind + parameters and
rendered in the reader's language when shown or sent, so the requester's profile decides their
channels too.
"""

from __future__ import annotations

from notifications.services import notify_ticket
from tickets.models import Ticket


def notify_survey(ticket: Ticket, link: str) -> None:
    """The satisfaction survey of a closed ticket (e-mail and in-app), with its one link."""
    notify_ticket(
        kind="feedback.survey",
        ticket=ticket,
        key="survey",
        params={"link": link},
        user_ids=[ticket.requester_id],
    )


def notify_survey_reminder(ticket: Ticket, link: str) -> None:
    """The one reminder of an unanswered survey."""
    notify_ticket(
        kind="feedback.survey_reminder",
        ticket=ticket,
        key="reminder",
        params={"link": link},
        user_ids=[ticket.requester_id],
    )
