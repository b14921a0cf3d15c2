"""Reads of the alerts app, scoped by the viewer."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import User

from .models import Alert, Integration


def can_view_alerts(viewer: User) -> bool:
    return viewer.has_perm("accounts.handle_tickets") or viewer.has_perm("accounts.configure_desk")


def alert_list(*, viewer: User, limit: int = 100) -> QuerySet[Alert]:
    """The latest alerts with their tickets (desk staff only)."""
    if not can_view_alerts(viewer):
        raise PermissionDenied
    return Alert.objects.select_related("integration", "ticket").order_by("-id")[:limit]


def integration_list(*, viewer: User) -> QuerySet[Integration]:
    if not can_view_alerts(viewer):
        raise PermissionDenied
    return Integration.objects.order_by("name")


def alerts_for_ticket(*, ticket_id: int) -> QuerySet[Alert]:
    """The alerts behind one ticket (the caller has already checked the viewer may see it)."""
    return Alert.objects.filter(ticket_id=ticket_id).order_by("id")
