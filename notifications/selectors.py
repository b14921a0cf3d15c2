"""Reads of notifications, always the viewer's own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User

from .choices import Channel
from .delivery import content
from .models import Notification


def inbox(*, viewer: User) -> QuerySet[Notification]:
    """The viewer's in-app notifications, newest first."""
    return Notification.objects.filter(recipient=viewer, channel=Channel.INBOX).order_by("-id")


def unread_count(*, viewer: User) -> int:
    return Notification.objects.filter(
        recipient=viewer, channel=Channel.INBOX, read_at__isnull=True
    ).count()


@dataclass
class Readable:
    """A notification as its reader sees it: rendered in their language, with its link."""

    notification: Notification
    subject: str
    body: str
    link: str


def readable(notifications: Iterable[Notification], *, language: str) -> list[Readable]:
    return [
        Readable(notification, *content(notification, language, absolute_link=False))
        for notification in notifications
    ]
