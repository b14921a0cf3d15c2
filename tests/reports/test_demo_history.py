"""The demo history: past tickets walked through the services with the clock moved, every
shape the reports need, and a second run that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from demo.history import HISTORY_SOURCE, demo_history_seed
from demo.services import demo_seed
from portal.models import Rating
from reports.models import Release, TicketFact
from sla.models import SlaTimer
from tickets import reactions
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)

DAYS = 12


def test_history_has_breaches_reopens_ratings_and_is_idempotent():
    with reactions.inline():
        report = demo_seed(ticket_count=12, train_classifier=False, history_days=DAYS)
    history = Ticket.objects.filter(external_source=HISTORY_SOURCE)
    assert report.history_created == history.count() > 20
    today = timezone.localdate()
    days = {timezone.localtime(t).date() for t in history.values_list("created_at", flat=True)}
    assert min(days) >= today - timedelta(days=DAYS) and max(days) < today
    assert len(days) >= 6  # spread over the working days, not all created "now"
    timers = SlaTimer.objects.filter(ticket__in=history)
    assert timers.filter(breached_at__isnull=False).exists()
    assert timers.filter(state="met", breached_at__isnull=True).exists()
    assert (
        history.filter(reopen_count__gt=0).exists()
        or TicketEvent.objects.filter(ticket__in=history, data__transition="reject").exists()
    )
    scores = set(Rating.objects.filter(ticket__in=history).values_list("score", flat=True))
    assert scores & {1, 2, 3} and scores & {4, 5}
    assert Release.objects.count() == 2
    # The reports were rebuilt at the end: one fact per ticket.
    assert TicketFact.objects.count() == Ticket.objects.count()

    counts = (history.count(), TicketEvent.objects.count(), Rating.objects.count())
    assert demo_history_seed(people=_people(), teams=_teams(), days=DAYS) == 0
    assert (history.count(), TicketEvent.objects.count(), Rating.objects.count()) == counts


def _people():
    from accounts.models import User

    return {u.username: u for u in User.objects.all()}


def _teams():
    from accounts.models import Team

    return {t.code: t for t in Team.objects.all()}
