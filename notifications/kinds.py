"""Every kind of message the desk sends: who it is for, its default channels, and its words.

A notification stores its kind and parameters; the sentence is rendered when it is shown or
sent, in the reader's language (`render`). The texts here are the templates of both the inbox
item and the e-mail; `templates/notifications/email/` lays the e-mail out. Requester-facing
kinds link to the portal and never carry internal text (their parameters are public texts
only: a question to the requester, a public reply, the resolution, a public reason).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from tickets.choices import Status


@dataclass(frozen=True)
class Kind:
    code: str
    audience: Promise  # whom it is for, as the admin and the profile page say it
    subject: Promise  # %(number)s, %(title)s and the kind's own parameters
    body: Promise
    for_requester: bool
    email: bool = True
    webhook: bool = False
    # The parameter holding the message's own link (absolute), when it is not the ticket's
    # page: a survey's one-click link, which works once and needs no login.
    link_param: str = ""


KINDS: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        # --- the requester ------------------------------------------------------------------
        Kind(
            "ticket.received",
            _("the requester"),
            _("[%(number)s] We received your request"),
            _(
                "Your request “%(title)s” was received as %(number)s. You can follow its "
                "progress and answer us on the portal."
            ),
            for_requester=True,
        ),
        Kind(
            "ticket.waiting_on_you",
            _("the requester"),
            _("[%(number)s] We need information from you"),
            _("To go on with “%(title)s” we need your answer:\n\n%(question)s"),
            for_requester=True,
        ),
        Kind(
            "ticket.desk_replied",
            _("the requester"),
            _("[%(number)s] New reply from the service desk"),
            _("%(author)s replied on “%(title)s”:\n\n%(text)s"),
            for_requester=True,
        ),
        Kind(
            "ticket.please_confirm",
            _("the requester"),
            _("[%(number)s] Fixed — please confirm"),
            _(
                "We believe “%(title)s” is fixed:\n\n%(resolution)s\n\nPlease confirm that it "
                "works, or tell us it does not, on the portal."
            ),
            for_requester=True,
        ),
        Kind(
            "ticket.closed",
            _("the requester"),
            _("[%(number)s] Your request is closed"),
            _("Your request “%(title)s” is closed. Thank you."),
            for_requester=True,
        ),
        Kind(
            "ticket.reopened",
            _("the requester"),
            _("[%(number)s] Your request was reopened"),
            _("Your request “%(title)s” was reopened and is being worked on again."),
            for_requester=True,
        ),
        Kind(
            "ticket.cancelled",
            _("the requester"),
            _("[%(number)s] Your request was cancelled"),
            _("Your request “%(title)s” was cancelled. %(reason)s"),
            for_requester=True,
        ),
        Kind(
            "ticket.merged",
            _("the requester"),
            _("[%(number)s] Your request was merged"),
            _(
                "Your request “%(title)s” describes the same problem as %(into)s and was merged "
                "into it; follow %(into)s from now on."
            ),
            for_requester=True,
        ),
        Kind(
            "announcement.fault",
            _("requesters with open requests on the system"),
            _("Outage: %(system)s"),
            _("%(headline)s\n\n%(text)s"),
            for_requester=True,
        ),
        Kind(
            "feedback.survey",
            _("the requester of a closed request"),
            _("How did we do? %(number)s %(title)s"),
            _(
                "Your request %(number)s “%(title)s” is closed. Tell us in one click how satisfied "
                "you are (1–5 stars); the link works once and needs no login:\n\n%(link)s"
            ),
            for_requester=True,
            link_param="link",
        ),
        Kind(
            "feedback.survey_reminder",
            _("the requester of a closed request"),
            _("Reminder: how did we do? %(number)s"),
            _(
                "We have not heard from you about %(number)s “%(title)s”. It takes one click:"
                "\n\n%(link)s"
            ),
            for_requester=True,
            link_param="link",
        ),
        # --- the desk -----------------------------------------------------------------------
        Kind(
            "ticket.assigned_to_you",
            _("the new assignee"),
            _("[%(number)s] Assigned to you: %(title)s"),
            _("%(number)s (%(priority)s) “%(title)s” is now yours."),
            for_requester=False,
        ),
        Kind(
            "ticket.requester_replied",
            _("the assignee and the followers"),
            _("[%(number)s] The requester replied"),
            _("%(author)s replied on “%(title)s”:\n\n%(text)s"),
            for_requester=False,
        ),
        Kind(
            "ticket.requester_confirmed",
            _("the assignee and the followers"),
            _("[%(number)s] The requester confirmed the fix"),
            _("The requester confirmed that “%(title)s” is fixed; the ticket is closed."),
            for_requester=False,
        ),
        Kind(
            "ticket.requester_rejected",
            _("the assignee and the followers"),
            _("[%(number)s] The requester says it is not fixed"),
            _("The requester rejected the fix of “%(title)s”:\n\n%(reason)s"),
            for_requester=False,
        ),
        Kind(
            "ticket.awaiting_verification",
            _("the middle-office experts who verify it"),
            _("[%(number)s] A fix waits for your verification"),
            _("The back office submitted a fix for “%(title)s”:\n\n%(resolution)s"),
            for_requester=False,
        ),
        Kind(
            "ticket.verification_failed",
            _("the engineer who submitted the fix"),
            _("[%(number)s] Your fix failed verification"),
            _("The fix of “%(title)s” failed verification:\n\n%(reason)s"),
            for_requester=False,
        ),
        Kind(
            "ticket.followed_changed",
            _("the followers"),
            _("[%(number)s] %(status)s"),
            _("“%(title)s” is now %(status)s."),
            for_requester=False,
            email=False,
        ),
        Kind(
            "ticket.unassigned_too_long",
            _("the team lead"),
            _("[%(number)s] Waiting in %(team)s's queue for %(minutes)s minutes"),
            _("Nobody has taken %(number)s (%(priority)s) “%(title)s” yet."),
            for_requester=False,
            webhook=True,
        ),
    )
}


def render(kind: str, params: dict, language: str | None) -> tuple[str, str]:
    """(subject, body) of a stored kind + parameters in `language`; an unknown kind (an app
    removed) renders as its code, never raises."""
    spec = KINDS.get(kind)
    if spec is None:
        return kind, ""
    values = _Params(params)
    with override(language or settings.LANGUAGE_CODE):
        return str(spec.subject) % values, str(spec.body) % values


class _Params(dict):
    """Parameters for %-formatting: a missing one renders empty instead of raising, and the
    status code is shown by its label in the reader's language."""

    def __missing__(self, key: str) -> str:
        return ""

    def __getitem__(self, key: str):
        value = super().__getitem__(key) if key in self else self.__missing__(key)
        if key == "status" and value:
            return str(Status(value).label) if value in Status.values else value
        return value


def ticket_link(number: str, *, for_requester: bool) -> str:
    """Where the message points: the portal page for a requester, the workspace for agents."""
    name = "portal:request" if for_requester else "workspace:ticket"
    if not _PLAIN_NUMBER.fullmatch(number):
        return reverse(name, kwargs={"number": number})
    # A delivery batch links thousands of tickets: the URL resolver runs once per process and
    # page, not per link (the desk's numbers need no quoting).
    head, _number, tail = _link_pattern(name, get_script_prefix(), get_urlconf()).partition(_NUMBER)
    return head + number + tail


_PLAIN_NUMBER = re.compile(r"[A-Za-z0-9._-]+")
_NUMBER = "NUMBER"


@functools.lru_cache(maxsize=16)
def _link_pattern(name: str, prefix: str, urlconf: str | None) -> str:
    return reverse(name, kwargs={"number": _NUMBER})


def absolute(path: str) -> str:
    return settings.SERVICEDESK.get("PUBLIC_BASE_URL", "").rstrip("/") + path
