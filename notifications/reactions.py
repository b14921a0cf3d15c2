"""How the desk tells people about their tickets (wired in `tickets/wiring.py`, after SLA).

Each reaction reads the ticket once, decides who hears what (the kinds in
`notifications.kinds`), and stores every message of the change in one INSERT through
`notify_ticket_messages` (three queries in all, however many kinds and people), whose
dedupe key is the change itself (`at`, the ticket's version; a comment's id): a reaction run
again after a failure tells nobody twice. The actor of a change is never told of it, and only
public texts (a question to the requester, a public reply, the resolution, a public reason)
ever reach a requester.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from accounts.choices import Tier
from accounts.models import User
from tickets import wiring
from tickets.choices import PendingReason, Status
from tickets.models import Comment, Ticket, TicketEvent

from .services import (
    TicketMessage,
    TicketNotice,
    TicketRef,
    notify_ticket,
    notify_ticket_many,
    notify_ticket_messages,
)


def _ticket(ticket_id: int, *, status_message: str = "") -> Ticket:
    """The ticket; with `status_message`, also (in the same query) the text typed with the
    last change to that status (`change_message`) and the resolution the requester is asked
    to confirm (`resolution_note`)."""
    tickets = Ticket.objects.select_related("team")
    if status_message:
        changes = TicketEvent.objects.filter(ticket=OuterRef("pk"), field="status").order_by("-id")
        tickets = tickets.annotate(
            change_message=Subquery(changes.filter(new_value=status_message).values("message")[:1]),
            resolution_note=Subquery(
                _resolution_events().filter(ticket=OuterRef("pk")).values("message")[:1]
            ),
        )
    return tickets.get(pk=ticket_id)


def on_ticket_created(*, ticket_id: int, **_payload) -> None:
    """The requester gets a receipt with the number and a link (also when an agent logged the
    request for them on the phone)."""
    ticket = _ticket(ticket_id)
    notify_ticket(
        kind="ticket.received",
        ticket=ticket,
        key="created",
        params={},
        user_ids=[ticket.requester_id],
    )


def on_tickets_created(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form (intake drain): every receipt of the batch in three queries."""
    ids = [payload["ticket_id"] for payload in payloads]
    tickets = Ticket.objects.select_related("team").filter(pk__in=ids).order_by("pk")
    notify_ticket_many(
        [
            TicketNotice(
                kind="ticket.received",
                ticket=t,
                key="created",
                params={},
                user_ids=[t.requester_id],
            )
            for t in tickets
        ]
    )
    return {}


def on_statuses_changed(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form: moves that tell only the followers (a new ticket routed, work started
    on a queued one, a ticket handed over or escalated back to a queue) and resolutions (a
    major incident's recovery resolving thousands of linked tickets) in a few queries for the
    batch; any other change as `on_status_changed`."""
    quiet = [p for p in payloads if _followers_only(p["old"], p["new"])]
    if quiet:
        tickets = _tickets([p["ticket_id"] for p in quiet])
        notify_ticket_many(
            [
                TicketNotice(
                    kind="ticket.followed_changed",
                    ticket=tickets[p["ticket_id"]],
                    key=p.get("at") or f"{p['old']}>{p['new']}",
                    params={"status": p["new"]},
                    followers=True,
                    exclude=[p.get("actor_id"), tickets[p["ticket_id"]].requester_id],
                )
                for p in quiet
            ]
        )
    told = {p["ticket_id"] for p in quiet}  # one change per ticket in a batch
    resolved = [p for p in payloads if p["new"] == Status.RESOLVED and p["ticket_id"] not in told]
    _resolved_many(resolved)
    told |= {p["ticket_id"] for p in resolved}
    rest = {p["ticket_id"] for p in payloads} - told
    return wiring.run_each(on_status_changed, payloads, only=rest) if rest else {}


def _followers_only(old: str, new: str) -> bool:
    """A move among the working states (routed, taken, handed over or escalated to a queue):
    `on_status_changed` tells only the followers of it, whoever made it."""
    working = (Status.QUEUED, Status.IN_PROGRESS)
    return old in (Status.NEW, *working) and new in working


def _tickets(ids: list[int]) -> dict[int, TicketRef]:
    """What a batch's messages need of their tickets: a few fields, not model instances."""
    rows = Ticket.objects.filter(pk__in=ids).values_list(
        "pk", "number", "title", "requester_id", "team_id", "priority"
    )
    return {row[0]: TicketRef(*row) for row in rows}


def on_status_changed(*, ticket_id: int, old: str, new: str, actor_id=None, at="", **_p) -> None:
    """Who hears of a status change, and what; every message of the change is stored at once
    (`notify_ticket_messages`: with the ticket's read, three queries in all)."""
    ticket = _ticket(ticket_id, status_message=new)
    key = at or f"{old}>{new}"
    requester, actor = ticket.requester_id, actor_id
    by_requester = actor is not None and actor == requester
    told: set[int] = {actor} if actor else set()
    messages: list[TicketMessage] = []
    said = ticket.change_message or ""

    def tell(kind: str, user_ids, *, params=None, followers=False) -> None:
        messages.append(
            TicketMessage(
                kind=kind,
                user_ids=list(user_ids),
                params=params or {},
                followers=followers,
                exclude=set(told),
            )
        )
        told.update(user_ids)

    assignee = [ticket.assignee_id] if ticket.assignee_id else []
    if new == Status.PENDING and ticket.pending_reason == PendingReason.REQUESTER:
        tell("ticket.waiting_on_you", [requester], params={"question": said})
    elif new == Status.RESOLVED:
        tell(
            "ticket.please_confirm",
            [requester],
            params={"resolution": ticket.resolution_note or ""},
        )
    elif new == Status.CLOSED and old == Status.RESOLVED and by_requester:
        tell("ticket.requester_confirmed", assignee, followers=True)
    elif new == Status.CLOSED and not by_requester:
        tell("ticket.closed", [requester])
    elif old == Status.RESOLVED and new == Status.IN_PROGRESS and by_requester:
        tell("ticket.requester_rejected", assignee, params={"reason": said}, followers=True)
    elif old in (Status.CLOSED, Status.RESOLVED) and not by_requester:
        tell("ticket.reopened", [requester])
    elif new == Status.CANCELLED and ticket.merged_into_id:
        into = Ticket.objects.filter(pk=ticket.merged_into_id).values_list("number", flat=True)
        tell("ticket.merged", [requester], params={"into": into.first() or ""})
    elif new == Status.CANCELLED and not by_requester:
        tell("ticket.cancelled", [requester], params={"reason": said})
    elif new == Status.PENDING_VERIFICATION:
        tell("ticket.awaiting_verification", _verifiers(ticket), params={"resolution": said})
    elif old == Status.PENDING_VERIFICATION and new != Status.RESOLVED:
        tell("ticket.verification_failed", _fix_submitter(ticket), params={"reason": said})
    # Everyone else who follows the ticket hears that it changed.
    told.add(requester)
    tell("ticket.followed_changed", [], params={"status": new}, followers=True)
    notify_ticket_messages(ticket=ticket, key=key, messages=messages)


def _resolved_many(resolved: list[dict]) -> None:
    """Tickets the desk resolved ask each requester to confirm and tell the followers, as
    `on_status_changed` would, in a handful of queries for the whole batch."""
    if not resolved:
        return
    # The few fields a message needs, not model instances: thousands of tickets at a time.
    tickets = {
        row[0]: TicketRef(*row)
        for row in Ticket.objects.filter(pk__in=[p["ticket_id"] for p in resolved]).values_list(
            "pk", "number", "title", "requester_id", "team_id"
        )
    }
    resolutions = _resolutions(list(tickets))
    messages = []
    for payload in resolved:
        ticket = tickets.get(payload["ticket_id"])
        if ticket is None:
            continue
        key = payload.get("at") or f"{payload['old']}>{payload['new']}"
        actor = payload.get("actor_id")
        messages += [
            TicketNotice(
                kind="ticket.please_confirm",
                ticket=ticket,
                key=key,
                params={"resolution": resolutions.get(ticket.pk, "")},
                user_ids=[ticket.requester_id],
                exclude=[actor],
            ),
            TicketNotice(
                kind="ticket.followed_changed",
                ticket=ticket,
                key=key,
                params={"status": payload["new"]},
                followers=True,
                exclude=[actor, ticket.requester_id],
            ),
        ]
    notify_ticket_many(messages)


def _resolution_events():
    """The changes whose note is the resolution the requester is asked to confirm: the last
    resolve or submit-fix (a back-office fix reaches the requester only after the middle
    office verified it), newest first."""
    return (
        TicketEvent.objects.filter(
            field="status", new_value__in=[Status.RESOLVED, Status.PENDING_VERIFICATION]
        )
        .exclude(data__transition="verify_pass")
        .order_by("-id")
    )


def _resolutions(ticket_ids: list[int]) -> dict[int, str]:
    """The resolution note of many tickets in one query."""
    rows = (
        _resolution_events()
        .filter(ticket_id__in=ticket_ids)
        .order_by("ticket_id", "-id")
        .distinct("ticket_id")
        .values_list("ticket_id", "message")
    )
    return dict(rows)


def _verifiers(ticket: Ticket) -> list[int]:
    """The middle-office experts who follow the ticket (those who dispatched it); if none
    does, every expert of the middle-office teams who may verify fixes."""
    followers = list(
        User.objects.filter(
            followed__ticket=ticket, memberships__team__tier=Tier.MIDDLE, is_active=True
        ).values_list("pk", flat=True)
    )
    if followers:
        return followers
    return list(
        User.objects.filter(memberships__team__tier=Tier.MIDDLE, is_active=True)
        .filter(groups__permissions__codename="verify_fixes")
        .values_list("pk", flat=True)
        .distinct()
    )


def _fix_submitter(ticket: Ticket) -> list[int]:
    """Whoever submitted the failed fix (the last submit-fix entry's actor)."""
    actor = (
        TicketEvent.objects.filter(
            ticket=ticket, field="status", new_value=Status.PENDING_VERIFICATION
        )
        .order_by("-id")
        .values_list("actor_id", flat=True)
        .first()
    )
    return [actor] if actor else ([ticket.assignee_id] if ticket.assignee_id else [])


def on_assignment_changed(
    *, ticket_id: int, new_assignee_id=None, old_assignee_id=None, actor_id=None, at="", **_p
) -> None:
    """The new assignee hears it is theirs, unless they took it themselves."""
    if new_assignee_id is None or new_assignee_id in (old_assignee_id, actor_id):
        return
    ticket = _ticket(ticket_id)
    notify_ticket(
        kind="ticket.assigned_to_you",
        ticket=ticket,
        key=at or f"assign>{new_assignee_id}",
        params={"priority": ticket.priority},
        user_ids=[new_assignee_id],
    )


def on_assignments_changed(*, payloads: list[dict]) -> dict[int, BaseException]:
    """The batch form: the new assignees of a batch hear it in three queries."""
    told = [
        p
        for p in payloads
        if p.get("new_assignee_id") is not None
        and p["new_assignee_id"] not in (p.get("old_assignee_id"), p.get("actor_id"))
    ]
    if not told:
        return {}
    tickets = _tickets([p["ticket_id"] for p in told])
    notify_ticket_many(
        [
            TicketNotice(
                kind="ticket.assigned_to_you",
                ticket=tickets[p["ticket_id"]],
                key=p.get("at") or f"assign>{p['new_assignee_id']}",
                params={"priority": tickets[p["ticket_id"]].priority},
                user_ids=[p["new_assignee_id"]],
            )
            for p in told
        ]
    )
    return {}


def on_public_reply(*, ticket_id: int, comment_id: int, by_requester: bool, **_p) -> None:
    """A requester's reply goes to the assignee and the followers; the desk's public reply
    goes to the requester (and the followers). Internal notes never come here."""
    comment = (
        Comment.objects.select_related("ticket", "ticket__team", "author")
        .filter(pk=comment_id, is_internal=False)
        .first()
    )
    if comment is None:
        return
    ticket = comment.ticket
    params = {"author": str(comment.author), "text": comment.body}
    key = f"comment{comment_id}"
    if by_requester:
        notify_ticket(
            kind="ticket.requester_replied",
            ticket=ticket,
            key=key,
            params=params,
            user_ids=[ticket.assignee_id] if ticket.assignee_id else [],
            followers=True,
            exclude=[comment.author_id],
        )
        return
    notify_ticket(
        kind="ticket.desk_replied",
        ticket=ticket,
        key=key,
        params=params,
        user_ids=[ticket.requester_id],
        exclude=[comment.author_id],
    )
