"""Reads of notifications, always the viewer's own."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User

from .choices import Channel
from .models import Notification


def inbox(*, viewer: User) -> QuerySet[Notification]:
    """The viewer's in-app notifications, newest first."""
    return Notification.objects.filter(recipient=viewer, channel=Channel.INBOX).order_by("-id")


def unread_count(*, viewer: User) -> int:
    return Notification.objects.filter(
        recipient=viewer, channel=Channel.INBOX, read_at__isnull=True
    ).count()
