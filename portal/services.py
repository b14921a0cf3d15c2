"""Writes of the portal. The requester's satisfaction rating is owned by the `feedback` app;
`ticket_rate` is kept as the portal's name for it."""

from __future__ import annotations

from accounts.models import User
from feedback.models import Rating
from feedback.services import rating_submit


def ticket_rate(*, ticket_id: int, actor: User, score: int, comment: str = "") -> Rating:
    """The requester rates a closed ticket once: `feedback.services.rating_submit`."""
    return rating_submit(ticket_id=ticket_id, actor=actor, score=score, comment=comment)
