"""Return visits: the idempotent sampling job, the call form's outcomes, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from catalog.models import RequestType
from feedback import services
from feedback.choices import FollowUp, VisitReason, VisitStatus
from feedback.models import ReturnVisit, ReturnVisitRule
from feedback.tasks import sample_return_visits
from tests.factories import TicketFactory, UserFactory
from tickets import services as ticket_services
from tickets.choices import Priority, Status


@pytest.fixture
def qa(desk):
    return UserFactory(username="qa", roles=[Role.QA_INSPECTOR])


def _window():
    now = timezone.now()
    return now - timedelta(hours=1), now + timedelta(hours=1)


def test_sampling_takes_the_percentage_and_every_complaint_and_p1_and_runs_once(desk):
    ReturnVisitRule.objects.filter(team__isnull=True).update(percentage=0)
    plain = [TicketFactory(desk).closed(title=f"Plain {i}") for i in range(3)]
    complaint = TicketFactory(desk).closed(title="Rude answer")
    complaint.request_type = RequestType.objects.get(code="complaint")
    complaint.save(update_fields=["request_type"])
    p1 = TicketFactory(desk).closed(title="Trading down")
    p1.priority = Priority.P1
    p1.save(update_fields=["priority"])
    start, end = _window()
    assert services.return_visits_sample(start=start, end=end, period="t") == 2
    assert services.return_visits_sample(start=start, end=end, period="t") == 0  # run twice
    reasons = dict(ReturnVisit.objects.values_list("ticket_id", "reason"))
    assert reasons == {complaint.pk: VisitReason.COMPLAINT, p1.pk: VisitReason.P1}
    # A team rule of 100 % takes every ticket of that team; already queued ones are kept.
    ReturnVisitRule.objects.create(team=desk.front, percentage=100)
    assert services.return_visits_sample(start=start, end=end, period="t2") == 3
    assert set(ReturnVisit.objects.values_list("ticket_id", flat=True)) == {
        t.pk for t in [*plain, complaint, p1]
    }


def test_the_beat_task_samples_yesterday_once(desk):
    ticket = TicketFactory(desk).closed()
    ReturnVisitRule.objects.filter(team__isnull=True).update(percentage=100)
    ticket_services  # noqa: B018  (the ticket is closed now: today, so yesterday is empty)
    assert sample_return_visits() == 0
    assert sample_return_visits() == 0
    assert not ReturnVisit.objects.filter(ticket=ticket).exists()


def test_call_outcomes(desk, qa):
    ticket = TicketFactory(desk).closed()
    visit = services.return_visit_open(ticket=ticket, reason=VisitReason.SAMPLE)
    services.return_visit_record(visit_id=visit.pk, actor=qa, reached=False)
    visit.refresh_from_db()
    assert (visit.status, visit.attempts) == (VisitStatus.RETRY, 1)
    assert visit.next_call_at > timezone.now()
    services.return_visit_record(
        visit_id=visit.pk,
        actor=qa,
        reached=True,
        satisfied=False,
        words="Still slow",
        follow_up=FollowUp.NEW_TICKET,
    )
    visit.refresh_from_db()
    assert (visit.status, visit.satisfied, visit.requester_words) == (
        VisitStatus.DONE,
        False,
        "Still slow",
    )
    complaint = visit.follow_up_ticket
    assert complaint.requester == desk.requester
    assert complaint.request_type.code == "complaint"
    with pytest.raises(ValidationError):  # recorded already
        services.return_visit_record(visit_id=visit.pk, actor=qa, reached=True, satisfied=True)


def test_follow_up_reopens_within_the_window(desk):
    ticket = TicketFactory(desk).closed()
    visit = services.return_visit_open(ticket=ticket, reason=VisitReason.SAMPLE)
    services.return_visit_record(
        visit_id=visit.pk,
        actor=desk.tier1,
        reached=True,
        satisfied=False,
        words="It broke again",
        follow_up=FollowUp.REOPEN,
    )
    ticket.refresh_from_db()
    assert ticket.status in (Status.IN_PROGRESS, Status.QUEUED)
    assert ticket.reopen_count == 1


def test_bad_input(client, desk, qa):
    ticket = TicketFactory(desk).closed()
    visit = services.return_visit_open(ticket=ticket, reason=VisitReason.SAMPLE)
    with pytest.raises(PermissionDenied):
        services.return_visit_record(visit_id=visit.pk, actor=desk.requester, reached=False)
    with pytest.raises(ValidationError) as missing:
        services.return_visit_record(visit_id=visit.pk, actor=qa, reached=True)
    assert "satisfied" in missing.value.message_dict
    # A ticket reopened since: refused, nothing changed.
    ticket_services.ticket_reopen(ticket_id=ticket.pk, actor=desk.requester, reason="Again")
    with pytest.raises(ValidationError) as reopened:
        services.return_visit_record(visit_id=visit.pk, actor=qa, reached=True, satisfied=True)
    assert "reopened" in reopened.value.messages[0]
    visit.refresh_from_db()
    assert (visit.status, visit.attempts) == (VisitStatus.OPEN, 0)
    # The web form shows it as a form error, not a 500.
    client.force_login(qa)
    page = client.post(
        reverse("feedback:visit", args=[visit.pk]),
        {"reached": "1", "satisfied": "1", "follow_up": "none"},
    )
    assert page.status_code == 200 and "reopened" in page.content.decode()


def test_queue_page_and_landing(client, desk, qa):
    ticket = TicketFactory(desk).closed()
    services.return_visit_open(ticket=ticket, reason=VisitReason.LOW_SCORE)
    client.force_login(qa)
    assert client.get("/").url == reverse("feedback:home")
    page = client.get(reverse("feedback:home")).content.decode()
    assert ticket.number in page and 'data-testid="visit-queue"' in page
    client.force_login(desk.requester)
    assert client.get(reverse("feedback:home")).status_code == 200
    assert 'data-testid="visit-queue"' not in client.get(reverse("feedback:home")).content.decode()
    assert client.get(reverse("feedback:visit", args=[1])).status_code == 404
