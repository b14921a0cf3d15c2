"""Races through the API on real PostgreSQL connections: one thread per client, started
together. The same Idempotency-Key twice at once opens one ticket; two agents taking one ticket
at once: one wins, the other gets 409, nothing half-written. Two actions sent at the same
moment: both succeed only when decision 0003 says the pair is compatible."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from accounts.models import TeamMembership, User
from tests.factories import TicketFactory, client_for
from tickets.choices import EventKind, Status
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*calls: Callable[[], object]) -> list:
    """Run each call in its own thread (own database connection), released at once."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # surfaced by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def describe(responses) -> list:
    return [(r.status_code, r.content[:300]) for r in responses]


def test_same_idempotency_key_at_once_opens_one_ticket(desk):
    # One user object per client, as separate requests would have.
    clients = [client_for(User.objects.get(pk=desk.requester.pk)) for _ in range(4)]

    def create(client):
        return lambda: client.post(
            "/api/tickets/",
            {"title": "Printer on fire"},
            format="json",
            headers={"Idempotency-Key": "retry-7f3a"},
        )

    responses = run_together(*(create(c) for c in clients))
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], describe(responses)
    assert len({r.json()["id"] for r in responses}) == 1
    assert Ticket.objects.filter(title="Printer on fire").count() == 1
    ticket = Ticket.objects.get(title="Printer on fire")
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CREATED).count() == 1


def test_two_agents_take_one_ticket_at_once(desk):
    ticket = TicketFactory(desk).new()
    # Whatever routing did on commit, put it back in the front office's queue, unowned.
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.QUEUED, team=desk.front, tier="front", assignee=None
    )
    last_event = TicketEvent.objects.filter(ticket=ticket).latest("id").pk
    first = client_for(User.objects.get(pk=desk.tier1.pk))
    second = client_for(User.objects.get(pk=desk.tier2.pk))

    responses = run_together(
        lambda: first.post(f"/api/tickets/{ticket.pk}/take/", {}, format="json"),
        lambda: second.post(f"/api/tickets/{ticket.pk}/take/", {}, format="json"),
    )
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert sorted(r.status_code for r in responses) == [200, 409], describe(responses)
    winner = next(r for r in responses if r.status_code == 200).json()["assignee"]["id"]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["status"] == Status.IN_PROGRESS
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (Status.IN_PROGRESS, winner)
    changes = TicketEvent.objects.filter(
        ticket=ticket, kind=EventKind.STATUS_CHANGED, id__gt=last_event
    )
    assert list(changes.values_list("old_value", "new_value", "actor_id")) == [
        ("queued", "in_progress", winner)
    ]


def test_two_agents_resolving_and_dispatching_at_once(desk):
    ticket = TicketFactory(desk).new()
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.IN_PROGRESS, team=desk.front, tier="front", assignee=desk.tier1
    )
    # The resolver also sits in the middle office, so it still sees the ticket when the
    # dispatch wins first: the race's loser then always gets the 409 (otherwise a 404, once
    # the ticket has left every team of the resolver).
    TeamMembership.objects.create(team=desk.middle, user=desk.tier1)
    last_event = TicketEvent.objects.filter(ticket=ticket).latest("id").pk
    responses = run_together(
        lambda: client_for(desk.tier1).post(
            f"/api/tickets/{ticket.pk}/resolve/", {"resolution": "fixed"}, format="json"
        ),
        lambda: client_for(desk.tier2).post(
            f"/api/tickets/{ticket.pk}/dispatch/",
            {"team": desk.middle.pk, "reason": "expert needed"},
            format="json",
        ),
    )
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert sorted(r.status_code for r in responses) == [200, 409], describe(responses)
    ticket.refresh_from_db()
    changes = list(
        TicketEvent.objects.filter(
            ticket=ticket, kind=EventKind.STATUS_CHANGED, id__gt=last_event
        ).values_list("new_value", flat=True)
    )
    if ticket.status == Status.RESOLVED:
        assert changes == [Status.RESOLVED]
        assert (ticket.resolution, ticket.team_id) == ("fixed", desk.front.pk)
    else:
        # The dispatch won: queued at the middle office, then assigned there by its
        # strategy (a hand-over is assigned as intake assigns); the resolve changed nothing.
        assert changes == [Status.QUEUED, Status.IN_PROGRESS]
        assert (ticket.status, ticket.team_id, ticket.resolution) == (
            Status.IN_PROGRESS,
            desk.middle.pk,
            "",
        )


# --- actions sent at the same moment (decision 0003's table) ---------------------------------


def _waiting_on_locks() -> int:
    with connections["default"].cursor() as cursor:
        # Inside a transaction the activity view is a snapshot taken once: take a new one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _wait_for_waiters(count: int) -> None:
    deadline = time.monotonic() + 30
    while _waiting_on_locks() < count:
        assert time.monotonic() < deadline, "the requests never queued on the ticket's lock"
        time.sleep(0.02)


def in_lock_order(ticket: Ticket, *calls: Callable[[], object]) -> list:
    """Run each call in its own thread while this test holds the ticket's row lock: every call
    reads the ticket, then queues on the lock in the order given; then the lock is released.
    "At the same moment" made exact: each request read the ticket before any of them wrote."""
    results: list = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            results[index] = call()
        except Exception as exc:  # surfaced by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = []
    with transaction.atomic():
        Ticket.objects.select_for_update().get(pk=ticket.pk)
        for index, call in enumerate(calls):
            thread = threading.Thread(target=worker, args=(index, call))
            thread.start()
            threads.append(thread)
            _wait_for_waiters(index + 1)
    for thread in threads:
        thread.join(timeout=60)
    return results


def _owned_by_tier1(desk) -> Ticket:
    ticket = TicketFactory(desk).new()
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Status.IN_PROGRESS, team=desk.front, tier="front", assignee=desk.tier1
    )
    return Ticket.objects.get(pk=ticket.pk)


def _resolve(desk, ticket):
    return lambda: client_for(desk.tier1).post(
        f"/api/tickets/{ticket.pk}/resolve/", {"resolution": "fixed"}, format="json"
    )


def _reassign(desk, ticket):
    return lambda: client_for(desk.tier2).post(
        f"/api/tickets/{ticket.pk}/assign/",
        {"assignee": desk.tier2.pk, "reason": "I know this one"},
        format="json",
    )


def test_reassign_then_resolve_at_the_same_moment_resolve_is_refused(desk):
    """The reassignment wins the lock; the resolve was decided on a ticket still owned by its
    sender: refused, although the new state would allow it (a lost update otherwise)."""
    ticket = _owned_by_tier1(desk)
    reassign, resolve = in_lock_order(ticket, _reassign(desk, ticket), _resolve(desk, ticket))
    assert reassign.status_code == 200, reassign.content
    assert resolve.status_code == 409, resolve.content
    assert resolve.json()["status"] == Status.IN_PROGRESS
    assert "resolve" in resolve.json()["allowed"]  # a decision on what they now see
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id, ticket.resolution) == (
        Status.IN_PROGRESS,
        desk.tier2.pk,
        "",
    )
    assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.STATUS_CHANGED).exists()


def test_resolve_then_reassign_at_the_same_moment_reassign_is_refused(desk):
    ticket = _owned_by_tier1(desk)
    resolve, reassign = in_lock_order(ticket, _resolve(desk, ticket), _reassign(desk, ticket))
    assert resolve.status_code == 200, resolve.content
    assert reassign.status_code == 409, reassign.content
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id, ticket.resolution) == (
        Status.RESOLVED,
        desk.tier1.pk,
        "fixed",
    )


def test_resolve_and_reassign_released_together_exactly_one_wins(desk):
    ticket = _owned_by_tier1(desk)
    responses = run_together(_resolve(desk, ticket), _reassign(desk, ticket))
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert sorted(r.status_code for r in responses) == [200, 409], describe(responses)


def test_an_internal_note_and_a_resolve_at_the_same_moment_both_succeed(desk):
    """A comment never conflicts: it carries no version, and a note leaves the ticket's
    version as it was, so the action queued behind it still applies."""
    ticket = _owned_by_tier1(desk)
    note, resolve = in_lock_order(
        ticket,
        lambda: client_for(desk.tier2).post(
            f"/api/tickets/{ticket.pk}/comments/",
            {"body": "Seen this before: restart the spooler.", "is_internal": True},
            format="json",
        ),
        _resolve(desk, ticket),
    )
    assert (note.status_code, resolve.status_code) == (201, 200), describe([note, resolve])
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.comments.filter(is_internal=True).count() == 1


def test_two_tickets_merged_into_each_other_at_once_one_merge_wins(desk):
    """Without the target's lock both merges applied: two cancelled tickets, each merged into
    the other, and nothing left open."""
    first, second = _owned_by_tier1(desk), _owned_by_tier1(desk)

    def merge(ticket, into):
        return lambda: client_for(desk.tier1).post(
            f"/api/tickets/{ticket.pk}/merge/",
            {"into": into.number, "reason": "dup"},
            format="json",
        )

    responses = run_together(merge(first, second), merge(second, first))
    assert all(not isinstance(r, Exception) for r in responses), responses
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 200 and codes[1] in (400, 409), describe(responses)
    statuses = sorted(Ticket.objects.filter(pk__in=[first.pk, second.pk]).values_list("status"))
    assert statuses == [(Status.CANCELLED,), (Status.IN_PROGRESS,)]
