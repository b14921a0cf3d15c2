"""Creating and delivering notifications.

`notify()` / `notify_many()` store one row per recipient and channel (inbox, e-mail) and per
chat webhook, inserted with ON CONFLICT DO NOTHING on the dedupe key: telling someone the same
thing twice is impossible by construction. Inbox rows are delivered when stored; e-mail and
webhook rows are delivered after commit by Celery (`notifications.deliver_batch`, on the
`delivery` queue), each row on its own, so a failing channel never blocks another; a failed
row is retried with backoff over hours, then parked as failed for an administrator to send
again (`notifications/delivery.py`).

Messages about tickets (`notify_ticket`) store a kind and parameters (`notifications.kinds`)
and are rendered in each reader's language when shown or sent; the desk-wide rule of the kind
(admin) and each person's preference (profile) choose the channels.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import JSONObject
from django.utils import timezone

from accounts.models import User
from servicedesk.tasks import enqueue_by_name
from tickets.choices import Status
from tickets.models import Ticket, TicketFollower

from .choices import Channel, DeliveryStatus
from .delivery import MAX_ATTEMPTS, notifications_deliver, webhook_payload
from .kinds import KINDS
from .models import Notification, NotificationPreference, NotificationRule, WebhookEndpoint

logger = logging.getLogger(__name__)

__all__ = ["MAX_ATTEMPTS", "notifications_deliver", "webhook_payload"]

DELIVERY_CHUNK = 100
# Capabilities that make a user desk staff: only they may receive internal notifications
# (an internal note's text, SLA escalations). Requesters never do.
STAFF_CAPABILITIES = ("handle_tickets", "view_reports", "configure_desk")


@dataclass
class NotificationSpec:
    """One message to send: to `recipients` (inbox, and e-mail when they have an address) and
    to the chat webhooks of `team_id` (or the desk-wide webhooks when it is None)."""

    dedupe_key: str
    recipients: Sequence[User | None]
    subject: str
    body: str
    url: str = ""
    team_id: int | None = None
    channels: tuple[str, ...] = (Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK)
    internal: bool = True
    extra: dict = field(default_factory=dict)
    # A message about a ticket: its kind and parameters, rendered for each reader.
    kind: str = ""
    params: dict = field(default_factory=dict)
    ticket_id: int | None = None
    # Per recipient id, the channels they switched off (profile preferences).
    muted: dict[int, set[str]] = field(default_factory=dict)


def notify(
    *,
    recipients: Iterable[User | None],
    subject: str,
    body: str,
    dedupe_key: str,
    url: str = "",
    team_id: int | None = None,
    channels: tuple[str, ...] = (Channel.INBOX, Channel.EMAIL, Channel.WEBHOOK),
    internal: bool = True,
) -> list[int]:
    """Store a notification for each recipient and channel; return the ids inserted now.

    Guards: with `internal=True` (the default) recipients who are not desk staff are dropped,
    so a requester never receives internal text. Side effects after commit: delivery tasks.
    """
    return notify_many(
        [
            NotificationSpec(
                dedupe_key=dedupe_key,
                recipients=list(recipients),
                subject=subject,
                body=body,
                url=url,
                team_id=team_id,
                channels=channels,
                internal=internal,
            )
        ]
    )


def _staff_ids(user_ids: set[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        User.objects.filter(pk__in=user_ids, is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__permissions__codename__in=STAFF_CAPABILITIES)
            | Q(user_permissions__codename__in=STAFF_CAPABILITIES)
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def _webhooks(specs: Sequence[NotificationSpec]) -> dict[int | None, list[WebhookEndpoint]]:
    wanted = [s for s in specs if Channel.WEBHOOK in s.channels]
    if not wanted:
        return {}
    team_ids = {s.team_id for s in wanted if s.team_id is not None}
    endpoints = WebhookEndpoint.objects.filter(is_active=True).filter(
        Q(team_id__in=team_ids) | Q(team__isnull=True)
    )
    result: dict[int | None, list[WebhookEndpoint]] = {}
    for endpoint in endpoints:
        result.setdefault(endpoint.team_id, []).append(endpoint)
    return result


# The columns go as arrays (one statement per 1,000 rows): the driver adapts eighteen lists
# instead of formatting a VALUES tuple per row.
_INSERT = """
INSERT INTO notifications_notification
    (recipient_id, channel, webhook_id, target, subject, body, url, dedupe_key, status,
     attempts, last_error, created_at, sent_at, read_at, kind, params, ticket_id,
     next_attempt_at)
SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[], %s::text[],
    %s::text[], %s::text[], %s::text[], %s::text[], %s::integer[], %s::text[],
    %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::jsonb[],
    %s::bigint[], %s::timestamptz[])
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, channel
"""


def notify_many(specs: Sequence[NotificationSpec]) -> list[int]:
    """Store many notifications in one statement per 1,000 rows (see `notify`)."""
    if not specs:
        return []
    now = timezone.now()
    internal_users = {
        user.pk for spec in specs if spec.internal for user in spec.recipients if user
    }
    staff = _staff_ids(internal_users)
    webhooks = _webhooks(specs)
    rows: list[tuple] = []
    for spec in specs:
        subject = spec.subject[:200]
        tail = (spec.kind, json.dumps(spec.params), spec.ticket_id, None)
        seen: set[int] = set()
        for user in spec.recipients:
            if user is None or user.pk in seen or (spec.internal and user.pk not in staff):
                continue
            seen.add(user.pk)
            muted = spec.muted.get(user.pk, set())
            if Channel.INBOX in spec.channels and Channel.INBOX not in muted:
                key = f"{spec.dedupe_key}:inbox:{user.pk}"
                rows.append(
                    (user.pk, Channel.INBOX, None, "", subject, spec.body, spec.url, key,
                     DeliveryStatus.SENT, 0, "", now, now, None, *tail)
                )  # fmt: skip
            if Channel.EMAIL in spec.channels and Channel.EMAIL not in muted and user.email:
                key = f"{spec.dedupe_key}:email:{user.pk}"
                rows.append(
                    (user.pk, Channel.EMAIL, None, user.email, subject, spec.body, spec.url, key,
                     DeliveryStatus.PENDING, 0, "", now, None, None, *tail)
                )  # fmt: skip
        if Channel.WEBHOOK in spec.channels:
            for endpoint in webhooks.get(spec.team_id, []):
                key = f"{spec.dedupe_key}:webhook:{endpoint.pk}"
                rows.append(
                    (None, Channel.WEBHOOK, endpoint.pk, endpoint.url, subject, spec.body,
                     spec.url, key, DeliveryStatus.PENDING, 0, "", now, None, None, *tail)
                )  # fmt: skip
    inserted: list[tuple[int, str]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            page = rows[start : start + 1000]
            cursor.execute(_INSERT, [list(column) for column in zip(*page, strict=True)])
            inserted += cursor.fetchall()
    to_deliver = [pk for pk, channel in inserted if channel != Channel.INBOX]
    if to_deliver:
        transaction.on_commit(lambda: _enqueue(to_deliver))
    return [pk for pk, _channel in inserted]


def _enqueue(ids: list[int]) -> None:
    # A broker that is down leaves the rows pending; `notifications.deliver_due` sends them.
    for start in range(0, len(ids), DELIVERY_CHUNK):
        enqueue_by_name("notifications.deliver_batch", ids[start : start + DELIVERY_CHUNK])


@transaction.atomic
def notification_mark_read(*, viewer: User, notification_id: int | None = None) -> int:
    """Mark one of the viewer's inbox notifications read (or all of them); returns how many
    changed. Someone else's notification is a PermissionDenied."""
    inbox = Notification.objects.filter(
        recipient=viewer, channel=Channel.INBOX, read_at__isnull=True
    )
    if notification_id is not None:
        if not Notification.objects.filter(
            pk=notification_id, recipient=viewer, channel=Channel.INBOX
        ).exists():
            raise PermissionDenied
        inbox = inbox.filter(pk=notification_id)
    return inbox.update(read_at=timezone.now())


# --- messages about tickets ---------------------------------------------------------------------

_RULES_TTL = timedelta(seconds=30)
_rules_cache: tuple[datetime, dict[str, tuple[str, ...]]] | None = None


def channels_by_kind() -> dict[str, tuple[str, ...]]:
    """Each kind's channels under the desk's rules (admin), defaults where no rule row exists;
    a disabled kind has none. Read once per 30 s per process (and once per intake batch)."""
    global _rules_cache
    now = timezone.now()
    if _rules_cache is not None and now - _rules_cache[0] < _RULES_TTL:
        return _rules_cache[1]
    result = {
        code: _channels(inbox=True, email=kind.email, webhook=kind.webhook)
        for code, kind in KINDS.items()
    }
    for rule in NotificationRule.objects.all():
        result[rule.kind] = (
            _channels(inbox=rule.inbox, email=rule.email, webhook=rule.webhook)
            if rule.enabled
            else ()
        )
    _rules_cache = (now, result)
    return result


def _channels(*, inbox: bool, email: bool, webhook: bool) -> tuple[str, ...]:
    on = ((Channel.INBOX, inbox), (Channel.EMAIL, email), (Channel.WEBHOOK, webhook))
    return tuple(channel for channel, enabled in on if enabled)


def rules_changed() -> None:
    """Forget the cached rules (an administrator saved one)."""
    global _rules_cache
    _rules_cache = None


@dataclass
class TicketMessage:
    """One kind of message about a change of a ticket: to `user_ids`, plus the ticket's
    followers when asked, never to those in `exclude` (see `notify_ticket`)."""

    kind: str
    user_ids: Sequence[int] = ()
    params: dict = field(default_factory=dict)
    followers: bool = False
    exclude: Iterable[int | None] = ()


def notify_ticket(
    *,
    kind: str,
    ticket,
    key: str,
    params: dict,
    user_ids: Iterable[int] = (),
    followers: bool = False,
    exclude: Iterable[int | None] = (),
) -> list[int]:
    """Tell people about one change of a ticket: `user_ids`, plus its followers when asked,
    never those in `exclude` (the actor of the change is not told of their own change).
    One message of `notify_ticket_messages`, whose guards and costs apply."""
    message = TicketMessage(
        kind=kind,
        user_ids=list(user_ids),
        params=params,
        followers=followers,
        exclude=list(exclude),
    )
    return notify_ticket_messages(ticket=ticket, key=key, messages=[message])


def notify_ticket_messages(*, ticket, key: str, messages: Sequence[TicketMessage]) -> list[int]:
    """Tell people about one change of a ticket, every kind of message it causes at once.

    Guards: a desk-facing kind never reaches the ticket's requester (its parameters may carry
    internal text); a requester-facing kind only reaches the requester. The channels are the
    kind's rule (admin) less what each person switched off (profile). Two queries whatever
    the number of kinds and people: one for the recipients (whether each follows the ticket,
    and their preferences for these kinds), one INSERT; e-mail and webhooks go after commit.
    `key` identifies the change (e.g. the ticket's version after it): the same change never
    notifies anyone twice, even when the reaction runs again.
    """
    rules = channels_by_kind()
    active = [(message, rules.get(message.kind, ())) for message in messages]
    active = [(message, channels) for message, channels in active if channels]
    if not active:
        return []
    named: set[int] = set()
    followers = False
    for message, _channels in active:
        named.update(message.user_ids)
        followers = followers or (message.followers and not KINDS[message.kind].for_requester)
    wanted = Q(pk__in=sorted(named))
    following = TicketFollower.objects.filter(ticket_id=ticket.pk, user_id=OuterRef("pk"))
    if followers:
        wanted |= Q(Exists(following))
    kinds = sorted({message.kind for message, _channels in active})
    prefs = NotificationPreference.objects.filter(user=OuterRef("pk"), kind__in=kinds).values(
        json=JSONObject(kind="kind", inbox="inbox", email="email")
    )
    people = list(
        User.objects.filter(wanted, is_active=True)
        .annotate(follows=Exists(following), prefs=ArraySubquery(prefs))
        .order_by("pk")
    )
    specs = []
    for message, channels in active:
        spec = KINDS[message.kind]
        excluded = {pk for pk in message.exclude if pk is not None}
        asked = set(message.user_ids)
        users = [
            user
            for user in people
            if user.pk not in excluded
            and (user.pk in asked or (message.followers and user.follows))
            and (user.pk == ticket.requester_id) == spec.for_requester
        ]
        muted = {}
        for user in users:
            pref = next((p for p in user.prefs if p["kind"] == message.kind), {})
            muted[user.pk] = _muted(pref.get("inbox"), pref.get("email"))
        specs.append(
            _ticket_spec(message.kind, ticket, key, message.params, users, muted, channels)
        )
    return notify_many(specs)


def _muted(inbox: bool | None, email: bool | None) -> set[str]:
    """The channels a person switched off for a kind (None: no preference stored)."""
    return {
        channel for channel, on in ((Channel.INBOX, inbox), (Channel.EMAIL, email)) if on is False
    }


def _ticket_spec(kind, ticket, key, params, recipients, muted, channels) -> NotificationSpec:
    """One kind of message about one change of a ticket, its recipients already chosen
    (requester or desk staff by construction, so never `internal`)."""
    return NotificationSpec(
        dedupe_key=f"{kind}:{ticket.pk}:{key}"[:180],
        recipients=recipients,
        subject="",
        body="",
        team_id=ticket.team_id,
        channels=channels,
        internal=False,
        kind=kind,
        params={"number": ticket.number, "title": ticket.title, **params},
        ticket_id=ticket.pk,
        muted=muted,
    )


class TicketRef(NamedTuple):
    """What a message needs of its ticket (batch reactions read thousands at a time)."""

    pk: int
    number: str
    title: str
    requester_id: int
    team_id: int | None
    priority: str = ""


@dataclass
class TicketNotice:
    """One `notify_ticket` call, for `notify_ticket_many` (same arguments)."""

    kind: str
    ticket: Ticket | TicketRef
    key: str
    params: dict
    user_ids: Iterable[int] = ()
    followers: bool = False
    exclude: Iterable[int | None] = ()


def notify_ticket_many(messages: Sequence[TicketNotice]) -> list[int]:
    """`notify_ticket` for many tickets' changes at once (a batch reaction), with the same
    guards, channels, preferences and dedupe keys: one query for the followers, one for the
    recipients, one for their preferences, and `notify_many`'s INSERT per 1,000 rows."""
    channels = channels_by_kind()
    messages = [m for m in messages if channels.get(m.kind)]
    if not messages:
        return []
    follower_ids: dict[int, set[int]] = {}
    followed = [m.ticket.pk for m in messages if m.followers and not KINDS[m.kind].for_requester]
    for ticket_id, user_id in TicketFollower.objects.filter(ticket_id__in=followed).values_list(
        "ticket_id", "user_id"
    ):
        follower_ids.setdefault(ticket_id, set()).add(user_id)
    wanted: list[tuple[TicketNotice, list[int]]] = []
    for message in messages:
        excluded = {pk for pk in message.exclude if pk is not None}
        ids = set(message.user_ids) | (
            follower_ids.get(message.ticket.pk, set())
            if message.followers and not KINDS[message.kind].for_requester
            else set()
        )
        wanted.append((message, sorted(ids - excluded)))
    all_ids = {pk for _m, ids in wanted for pk in ids}
    users = User.objects.filter(pk__in=sorted(all_ids), is_active=True).in_bulk()
    prefs = {
        (pref.user_id, pref.kind): pref
        for pref in NotificationPreference.objects.filter(
            user_id__in=sorted(users), kind__in={m.kind for m in messages}
        )
    }
    specs = []
    for message, ids in wanted:
        ticket, kind = message.ticket, message.kind
        recipients = [
            users[pk]
            for pk in ids
            if pk in users and (pk == ticket.requester_id) == KINDS[kind].for_requester
        ]
        muted = {}
        for user in recipients:
            pref = prefs.get((user.pk, kind))
            muted[user.pk] = _muted(pref.inbox if pref else None, pref.email if pref else None)
        specs.append(
            _ticket_spec(
                kind, ticket, message.key, message.params, recipients, muted, channels[kind]
            )
        )
    return notify_many(specs)


@transaction.atomic
def notification_send_again(*, notification_ids: Sequence[int]) -> int:
    """An administrator sends failed (or still retrying) e-mails and webhooks again, now:
    attempts start over. Returns how many rows will be sent."""
    ids = list(
        Notification.objects.filter(pk__in=list(notification_ids))
        .exclude(channel=Channel.INBOX)
        .exclude(status=DeliveryStatus.SENT)
        .values_list("pk", flat=True)
    )
    Notification.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, last_error=""
    )
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def notify_unassigned_too_long(*, limit: int = 500) -> int:
    """Tell team leads about tickets queued unassigned for too long; returns how many were
    found. Idempotent: the dedupe key is the ticket's version, so a ticket is reported once
    per time it waits (a new queueing is a new version)."""
    minutes = settings.SERVICEDESK.get("UNASSIGNED_ALERT_MINUTES", 30)
    cutoff = timezone.now() - timedelta(minutes=minutes)
    waiting = list(
        Ticket.objects.filter(
            status=Status.QUEUED,
            assignee__isnull=True,
            team__lead__isnull=False,
            updated_at__lte=cutoff,
        )
        .select_related("team")
        .order_by("updated_at")[:limit]
    )
    for ticket in waiting:
        waited = int((timezone.now() - ticket.updated_at).total_seconds() // 60)
        notify_ticket(
            kind="ticket.unassigned_too_long",
            ticket=ticket,
            key=ticket.updated_at.isoformat(),
            params={"team": ticket.team.label, "minutes": waited, "priority": ticket.priority},
            user_ids=[ticket.team.lead_id],
        )
    return len(waiting)


def kinds_for(user: User) -> list[str]:
    """The kinds a person may receive: the requester's for everyone, the desk's for staff."""
    staff = user.has_perm("accounts.handle_tickets") or user.has_perm("accounts.view_reports")
    return [code for code, kind in KINDS.items() if kind.for_requester or staff]


@transaction.atomic
def notification_preferences_set(*, user: User, choices: dict[str, tuple[bool, bool]]) -> None:
    """Store a person's channel choices per kind ({kind: (inbox, e-mail)}); a kind left on
    both channels needs no row."""
    allowed = set(kinds_for(user))
    for kind, (inbox, email) in choices.items():
        if kind not in allowed:
            continue
        if inbox and email:
            NotificationPreference.objects.filter(user=user, kind=kind).delete()
        else:
            NotificationPreference.objects.update_or_create(
                user=user, kind=kind, defaults={"inbox": inbox, "email": email}
            )


def notification_preferences(*, user: User) -> dict[str, tuple[bool, bool]]:
    stored = {
        pref.kind: (pref.inbox, pref.email)
        for pref in NotificationPreference.objects.filter(user=user)
    }
    return {kind: stored.get(kind, (True, True)) for kind in kinds_for(user)}
