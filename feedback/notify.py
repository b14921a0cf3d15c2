"""Messages the feedback app sends, one function per kind, each with a stable dedupe key.

Survey mails go to the requester, so they carry only public facts (number and title) and are
rendered in the requester's own language (`User.language`, else the desk's default).
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from notifications.choices import Channel
from notifications.services import notify
from tickets.models import Ticket


def _send_to_requester(ticket: Ticket, *, dedupe_key: str, subject, body, link: str) -> None:
    requester = ticket.requester
    with translation.override(requester.preferred_language()):
        notify(
            recipients=[requester],
            subject=str(subject()),
            body=str(body()),
            dedupe_key=dedupe_key,
            url=link,
            channels=(Channel.INBOX, Channel.EMAIL),
            internal=False,
        )


def notify_survey(ticket: Ticket, link: str) -> None:
    """The satisfaction survey of a closed ticket (e-mail and in-app), with its one link."""
    facts = {"number": ticket.number, "title": ticket.title, "link": link}
    _send_to_requester(
        ticket,
        dedupe_key=f"feedback.survey:{ticket.pk}",
        subject=lambda: _("How did we do? %(number)s %(title)s") % facts,
        body=lambda: (
            _(
                "Your request %(number)s “%(title)s” is closed. Tell us in one click how satisfied "
                "you are (1–5 stars); the link works once and needs no login:\n\n%(link)s"
            )
            % facts
        ),
        link=link,
    )


def notify_survey_reminder(ticket: Ticket, link: str) -> None:
    """The one reminder of an unanswered survey."""
    facts = {"number": ticket.number, "title": ticket.title, "link": link}
    _send_to_requester(
        ticket,
        dedupe_key=f"feedback.survey_reminder:{ticket.pk}",
        subject=lambda: _("Reminder: how did we do? %(number)s") % facts,
        body=lambda: (
            _(
                "We have not heard from you about %(number)s “%(title)s”. It takes one click:"
                "\n\n%(link)s"
            )
            % facts
        ),
        link=link,
    )
