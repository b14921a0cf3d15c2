"""The demo's closed loop: ratings, return visits and inspections, safe to seed twice."""

from __future__ import annotations

from accounts.choices import Role
from feedback.models import Inspection, Rating, ReturnVisit
from feedback.seed import feedback_seed
from tests.factories import TicketFactory, UserFactory
from tickets.models import Ticket


def test_feedback_seed_rates_and_inspects_and_runs_twice(desk):
    UserFactory(username="qa", roles=[Role.QA_INSPECTOR])
    tickets = [TicketFactory(desk).closed(title=f"Demo {i}") for i in range(6)]
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(external_source="demo")
    first = feedback_seed()
    assert first["ratings"] == 5  # every fifth requester never answers
    assert sorted(Rating.objects.values_list("score", flat=True)) == [2, 3, 4, 5, 5]
    assert ReturnVisit.objects.filter(reason="low_score").count() == 1
    statuses = sorted(Inspection.objects.values_list("status", flat=True))
    # Of six, the first is appealed, every third stays pending, the rest are scored.
    assert statuses == sorted(["appealed", "pending", "pending", "scored", "scored", "scored"])
    counts = (Rating.objects.count(), ReturnVisit.objects.count(), Inspection.objects.count())
    second = feedback_seed()
    assert second["ratings"] == 0 and second["visits"] == 0
    assert (
        Rating.objects.count(),
        ReturnVisit.objects.count(),
        Inspection.objects.count(),
    ) == counts
