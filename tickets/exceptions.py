"""Errors the ticket services raise; the API and the UI turn each into a clear answer."""

from django.utils.translation import gettext as _

from servicedesk.exceptions import DomainError


class TicketError(DomainError):
    """Base class of the ticket core's domain errors."""


class IllegalTransition(TicketError):
    """The transition is not possible from the ticket's status, or not for this person.

    `allowed` names the transitions this person may make now, so a client can recover.
    """

    def __init__(self, *, transition: str, status: str, allowed: list[str], reason: str = ""):
        self.transition, self.status, self.allowed = transition, status, allowed
        message = reason or _("“%(transition)s” is not allowed while the ticket is %(status)s.") % {
            "transition": transition,
            "status": status,
        }
        super().__init__(message)


class ConcurrentModification(TicketError):
    """Someone else changed the ticket first; nothing of this attempt was written."""

    def __init__(self) -> None:
        super().__init__(
            _("The ticket was changed by someone else at the same time. Reload it and try again.")
        )
