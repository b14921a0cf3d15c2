"""Quality inspection: weekly sample per agent (run twice), scorecard arithmetic, scoring
once under concurrency, the appeal flow, scores per agent and team."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from feedback import selectors, services
from feedback.choices import AppealDecision, InspectionStatus
from feedback.models import Inspection, Scorecard
from feedback.services.inspections import monday_of, weighted_score
from tests.factories import TicketFactory, UserFactory


@pytest.fixture
def qa(desk):
    return UserFactory(username="qa", roles=[Role.QA_INSPECTOR])


def _marks(inspection, percent=100, **override):
    return {item.pk: override.get(item.name, percent) for item in inspection.scorecard.items.all()}


def test_weighted_score_arithmetic():
    assert weighted_score([(15, 100), (20, 50), (15, 0), (30, 100), (5, 0), (15, 100)]) == Decimal(
        "70.00"
    )
    assert weighted_score([(1, 100), (2, 0)]) == Decimal("33.33")
    assert weighted_score([(1, 100), (1, 99)]) == Decimal("99.50")
    assert weighted_score([]) == Decimal("0.00")


def test_default_scorecard_is_versioned_and_weighted(db):
    card = services.scorecard_active()
    assert (card.name, card.version) == ("Ticket handling", 1)
    assert sum(card.items.values_list("weight", flat=True)) == 100
    newer = Scorecard.objects.create(name="Ticket handling", version=2)
    assert services.scorecard_active() == newer


def test_weekly_sample_per_agent_runs_once(desk, settings):
    settings.FEEDBACK = {**settings.FEEDBACK, "INSPECTIONS_PER_AGENT_PER_WEEK": 2}
    tickets = [TicketFactory(desk).closed(title=f"T{i}") for i in range(4)]
    week = monday_of(timezone.localdate())
    assert services.inspection_sample_week(week=week) == 2
    assert services.inspection_sample_week(week=week) == 0
    sampled = Inspection.objects.all()
    assert {i.agent_id for i in sampled} == {desk.tier1.pk}
    assert {i.ticket_id for i in sampled} <= {t.pk for t in tickets}
    assert {i.status for i in sampled} == {InspectionStatus.PENDING}


def test_score_then_appeal_then_lead_decides(client, desk, qa):
    desk.front.lead = desk.tier2
    desk.front.save(update_fields=["lead"])
    ticket = TicketFactory(desk).closed()
    inspection = services.inspection_request(ticket_id=ticket.pk, actor=qa)
    assert services.inspection_request(ticket_id=ticket.pk, actor=qa) == inspection
    scored = services.inspection_score(
        inspection_id=inspection.pk,
        actor=qa,
        marks=_marks(inspection, **{"Timely first response": 50, "Knowledge linked": 0}),
        comment="No article linked",
    )
    assert scored.score == Decimal("85.00")  # 100 − 20×0.5 − 5
    assert scored.status == InspectionStatus.SCORED
    # The agent sees it and appeals once.
    assert list(selectors.inspections_of_agent(viewer=desk.tier1)) == [inspection]
    with pytest.raises(PermissionDenied):
        services.inspection_appeal(inspection_id=inspection.pk, actor=desk.tier2, reason="x")
    services.inspection_appeal(
        inspection_id=inspection.pk, actor=desk.tier1, reason="Responded by phone"
    )
    with pytest.raises(ValidationError):
        services.inspection_appeal(inspection_id=inspection.pk, actor=desk.tier1, reason="Again")
    # Only a lead decides; the agent cannot.
    with pytest.raises(PermissionDenied):
        services.appeal_decide(inspection_id=inspection.pk, actor=desk.tier1, upheld=True)
    with pytest.raises(PermissionDenied):
        services.appeal_decide(inspection_id=inspection.pk, actor=qa, upheld=True)
    assert [a.inspection for a in selectors.appeals_to_decide(viewer=desk.tier2)] == [inspection]
    with pytest.raises(ValidationError):  # upheld needs the revised score
        services.appeal_decide(inspection_id=inspection.pk, actor=desk.tier2, upheld=True)
    appeal = services.appeal_decide(
        inspection_id=inspection.pk,
        actor=desk.tier2,
        upheld=True,
        revised_score=Decimal("95"),
        note="Phone call logged",
    )
    inspection.refresh_from_db()
    assert (appeal.decision, appeal.original_score) == (AppealDecision.UPHELD, Decimal("85.00"))
    assert (inspection.status, inspection.score) == (InspectionStatus.FINAL, Decimal("95.00"))
    # Scores per agent and team.
    rows = selectors.inspection_scores(viewer=desk.manager, by="agent")
    assert rows == [{"agent__username": "tier1", "mean": Decimal("95.00"), "count": 1}]
    client.force_login(desk.manager)
    api = client.get(reverse("api-feedback-scores"), {"by": "team"}).json()
    assert api == [{"key": "Front office", "mean": "95.00", "count": 1}]
    assert client.get(reverse("api-feedback-scores"), {"by": "x"}).status_code == 400
    stats = client.get(reverse("feedback:stats"), {"start": "2000-01-01"}).content.decode()
    assert "95.00" in stats and 'data-testid="scores-team"' in stats
    client.force_login(desk.requester)
    assert client.get(reverse("feedback:stats")).status_code == 403


def test_bad_marks_and_own_ticket(desk, qa):
    inspection = services.inspection_request(ticket_id=TicketFactory(desk).closed().pk, actor=qa)
    marks = _marks(inspection)
    first = next(iter(marks))
    with pytest.raises(ValidationError) as too_high:
        services.inspection_score(
            inspection_id=inspection.pk, actor=qa, marks={**marks, first: 101}
        )
    assert f"item_{first}" in too_high.value.message_dict
    missing = dict(marks)
    missing.pop(first)
    with pytest.raises(ValidationError):
        services.inspection_score(inspection_id=inspection.pk, actor=qa, marks=missing)
    with pytest.raises(PermissionDenied):
        services.inspection_score(inspection_id=inspection.pk, actor=desk.tier1, marks=marks)
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.PENDING and inspection.score is None


def test_scoring_page(client, desk, qa):
    ticket = TicketFactory(desk).closed()
    inspection = services.inspection_request(ticket_id=ticket.pk, actor=qa)
    client.force_login(qa)
    page = client.get(reverse("feedback:inspection", args=[inspection.pk]))
    assert page.status_code == 200 and 'data-testid="timeline"' in page.content.decode()
    data = {f"item_{pk}": "100" for pk in _marks(inspection)}
    bad = client.post(
        reverse("feedback:inspection", args=[inspection.pk]), {**data, next(iter(data)): "abc"}
    )
    assert bad.status_code == 200 and "Enter a whole number" in bad.content.decode()
    ok = client.post(reverse("feedback:inspection", args=[inspection.pk]), data)
    assert ok.status_code == 302
    inspection.refresh_from_db()
    assert inspection.score == Decimal("100.00")
    # On demand by number.
    other = TicketFactory(desk).closed(title="Other")
    found = client.post(reverse("feedback:inspect"), {"number": other.number})
    assert found.status_code == 302 and Inspection.objects.filter(ticket=other).exists()
    assert client.post(reverse("feedback:inspect"), {"number": "SD-nope"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_inspectors_scoring_at_once_one_wins(desk):
    qa1 = UserFactory(username="qa1", roles=[Role.QA_INSPECTOR])
    qa2 = UserFactory(username="qa2", roles=[Role.QA_INSPECTOR])
    inspection = services.inspection_request(ticket_id=TicketFactory(desk).closed().pk, actor=qa1)
    marks = _marks(inspection)
    barrier = threading.Barrier(2)
    outcomes = []

    def score(actor):
        try:
            barrier.wait()
            services.inspection_score(inspection_id=inspection.pk, actor=actor, marks=marks)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=score, args=(u,)) for u in (qa1, qa2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    inspection.refresh_from_db()
    assert inspection.marks.count() == len(marks)
