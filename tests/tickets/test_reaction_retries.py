"""Reactions that fail are retried from where they stopped, then parked (tickets/retries.py);
the wiring table is the one place reactions are connected (tickets/wiring.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

import routing.services
import sla.services
from sla.models import SlaTimer
from tests.factories import TicketFactory, UserFactory
from tickets import intake, reactions, retries, services, wiring
from tickets.choices import Status
from tickets.models import ReactionRetry, Ticket


class Flaky:
    """Wraps a service: raises the first `failures` calls, then delegates; counts the calls
    that completed."""

    def __init__(self, real, failures: int):
        self.real, self.failures, self.calls, self.completed = real, failures, 0, 0

    def __call__(self, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"injected failure {self.calls}")
        result = self.real(**kwargs)
        self.completed += 1
        return result


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def counted_routing(monkeypatch):
    counter = Flaky(routing.services.routing_auto_route, failures=0)
    monkeypatch.setattr(routing.services, "routing_auto_route", counter)
    return counter


def _create(desk, capture) -> Ticket:
    with capture(execute=True):
        ticket, _created = services.ticket_create(
            requester=desk.requester, title="Printer on floor 3 jams", created_by=desk.requester
        )
    ticket.refresh_from_db()
    return ticket


def _drain_at(moment, capture) -> int:
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return intake.drain()


def test_the_wiring_table_is_the_only_connection_and_sla_starts_after_routing():
    intake_chain = [
        "servicecatalog.reactions.on_ticket_created",
        "routing.reactions.on_ticket_created",
        "alerts.reactions.on_ticket_created",
        "sla.reactions.on_ticket_created",
        "notifications.reactions.on_ticket_created",
    ]
    assert reactions.registered()[reactions.TICKET_CREATED] == intake_chain
    assert [
        path for event, path in wiring.WIRING if event == reactions.TICKET_CREATED
    ] == intake_chain
    assert not hasattr(reactions, "connect")


def test_a_reaction_that_fails_once_is_resumed_and_the_ticket_ends_routed_and_timed(
    desk, monkeypatch, counted_routing, django_capture_on_commit_callbacks
):
    flaky_start = Flaky(sla.services.sla_timers_start, failures=1)
    monkeypatch.setattr(sla.services, "sla_timers_start", flaky_start)

    ticket = _create(desk, django_capture_on_commit_callbacks)

    # Routing ran; the SLA start failed: the ticket stays in the intake queue, nothing lost.
    assert counted_routing.completed == 1
    assert not SlaTimer.objects.filter(ticket=ticket).exists()
    retry = ReactionRetry.objects.get(ticket=ticket)
    assert (retry.event, retry.reaction, retry.state, retry.attempts) == (
        reactions.TICKET_CREATED,
        "sla.reactions.on_ticket_created",
        ReactionRetry.State.RETRYING,
        1,
    )
    assert retry.last_error == "RuntimeError: injected failure 1"
    assert ticket.intake_due_at == retry.next_attempt_at
    assert retry.next_attempt_at - retry.updated_at == timedelta(seconds=10)

    # Before the backoff ends a drain finds nothing due.
    assert (
        _drain_at(retry.next_attempt_at - timedelta(seconds=1), django_capture_on_commit_callbacks)
        == 0
    )
    assert (
        _drain_at(retry.next_attempt_at + timedelta(seconds=1), django_capture_on_commit_callbacks)
        == 1
    )

    ticket.refresh_from_db()
    assert ticket.intake_due_at is None
    assert set(SlaTimer.objects.filter(ticket=ticket).values_list("metric", flat=True)) == {
        "first_response",
        "resolution",
    }
    # Each reaction ran to completion exactly once: routing was not run again.
    assert (counted_routing.calls, counted_routing.completed) == (1, 1)
    assert (flaky_start.calls, flaky_start.completed) == (2, 1)
    retry.refresh_from_db()
    assert (retry.state, retry.attempts, retry.next_attempt_at) == (
        ReactionRetry.State.DONE,
        1,
        None,
    )
    # A drain run again finds nothing.
    assert _drain_at(timezone.now() + timedelta(hours=2), django_capture_on_commit_callbacks) == 0


def test_a_reaction_that_always_fails_is_parked_visible_and_retryable(
    desk, settings, monkeypatch, counted_routing, admin_client, django_capture_on_commit_callbacks
):
    settings.SERVICEDESK = {**settings.SERVICEDESK, "REACTION_MAX_ATTEMPTS": 3}
    broken = Flaky(sla.services.sla_timers_start, failures=10**6)
    monkeypatch.setattr(sla.services, "sla_timers_start", broken)
    ticket = _create(desk, django_capture_on_commit_callbacks)

    moment = timezone.now()
    for _attempt in range(2):
        moment += timedelta(hours=2)
        assert _drain_at(moment, django_capture_on_commit_callbacks) == 1
    retry = ReactionRetry.objects.get(ticket=ticket)
    ticket.refresh_from_db()
    assert (retry.state, retry.attempts, retry.next_attempt_at) == (
        ReactionRetry.State.PARKED,
        3,
        None,
    )
    assert ticket.intake_due_at is None  # parked: out of the queue, in the dead-letter list
    assert broken.calls == 3 and counted_routing.calls == 1
    assert retries.parked_count() == 1

    page = admin_client.get(reverse("admin:tickets_reactionretry_changelist"))
    assert page.status_code == 200
    assert "sla.reactions.on_ticket_created" in page.content.decode()

    # Fixed, then retried by the administrator: the chain resumes and completes.
    monkeypatch.setattr(sla.services, "sla_timers_start", broken.real)
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            reverse("admin:tickets_reactionretry_changelist"),
            {"action": "retry_now", "_selected_action": [retry.pk]},
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.intake_due_at is not None
    assert _drain_at(timezone.now() + timedelta(seconds=1), django_capture_on_commit_callbacks) == 1
    retry.refresh_from_db()
    assert retry.state == ReactionRetry.State.DONE
    assert SlaTimer.objects.filter(ticket=ticket).count() == 2
    assert counted_routing.calls == 1
    assert retries.parked_count() == 0


def test_a_failing_reaction_to_a_status_change_is_retried_by_the_job_once(
    desk, monkeypatch, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(desk).queued(desk.front)  # no commit yet: no reactions ran
    flaky = Flaky(sla.services.sla_timers_on_status, failures=1)
    monkeypatch.setattr(sla.services, "sla_timers_on_status", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)

    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS  # the change stands
    retry = ReactionRetry.objects.get(ticket=ticket, event=reactions.STATUS_CHANGED)
    assert retry.reaction == "sla.reactions.on_status_changed"
    assert (retry.payload["old"], retry.payload["new"]) == (Status.QUEUED, Status.IN_PROGRESS)
    assert retries.retry_due() == 0  # not due before its backoff

    later = retry.next_attempt_at + timedelta(seconds=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert retries.retry_due() == 1
        assert retries.retry_due() == 0  # run twice: nothing more happens
    assert (flaky.calls, flaky.completed) == (2, 1)
    retry.refresh_from_db()
    assert retry.state == ReactionRetry.State.DONE


def test_a_reaction_added_for_a_test_runs_after_the_wired_ones(
    desk, django_capture_on_commit_callbacks
):
    seen = []
    with reactions.wired_for_test(reactions.TICKET_CREATED, lambda **p: seen.append(p)):
        ticket = _create(desk, django_capture_on_commit_callbacks)
    assert seen == [{"ticket_id": ticket.pk}]
    assert SlaTimer.objects.filter(ticket=ticket).exists()  # the wired chain ran before
