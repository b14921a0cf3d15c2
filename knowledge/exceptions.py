"""Errors the knowledge services raise; the API answers 409, the pages show a message."""

from django.utils.translation import gettext as _


class KnowledgeError(Exception):
    """Base class of the knowledge base's domain errors."""


class IllegalArticleTransition(KnowledgeError):
    """Not possible from the current status, or not for this person (e.g. a second reviewer
    approving an article the first one already published)."""

    def __init__(self, *, transition: str, status: str):
        self.transition, self.status = transition, status
        super().__init__(
            _("“%(transition)s” is not possible: the item is %(status)s, or not yours to change.")
            % {"transition": transition, "status": status}
        )


class ConcurrentChange(KnowledgeError):
    def __init__(self) -> None:
        super().__init__(_("Someone else changed this at the same time. Reload and try again."))
