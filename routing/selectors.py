"""Reads of routing data, scoped by the viewer where tickets are concerned."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from tickets.models import Ticket
from tickets.selectors import visible_tickets

from .models import ClassificationRule, TrainingExample


def ticket_for_routing(*, viewer: User, ticket_id: int) -> Ticket:
    """A ticket the viewer may see (dispatchers also see the triage queue), with what routing
    reads joined; DoesNotExist (a 404) otherwise, so ids do not leak."""
    return (
        visible_tickets(viewer)
        .select_related("request_type", "system__owner_team", "team")
        .get(pk=ticket_id)
    )


def active_rules() -> QuerySet[ClassificationRule]:
    return ClassificationRule.objects.filter(is_active=True).order_by("order", "id")


def training_examples(*, target: str | None = None) -> QuerySet[TrainingExample]:
    queryset = TrainingExample.objects.select_related("ticket", "created_by")
    return queryset.filter(target=target) if target else queryset
