"""Storm control and the alerts app's periodic job."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.choices import AlertOutcome
from alerts.models import Alert, AlertGroup, Delivery
from alerts.tasks import prune
from tickets.choices import Channel
from tickets.models import Ticket

from .conftest import captured

pytestmark = pytest.mark.django_db


def group_of(n: int, *, start: int = 0, name: str = "NodeDown") -> dict:
    body = copy.deepcopy(captured("alertmanager_payload.json"))
    template = body["alerts"][0]
    body["groupKey"] = f'{{}}:{{alertname="{name}"}}'
    body["alerts"] = []
    for i in range(start, start + n):
        alert = copy.deepcopy(template)
        alert["labels"]["instance"] = f"web{i:03d}:9100"
        alert["fingerprint"] = f"{name}-{i}"
        body["alerts"].append(alert)
    return body


def test_alerts_beyond_the_threshold_share_one_storm_ticket(integration, post):
    integration.storm_threshold = 5
    integration.save()
    answer = post(group_of(8))
    assert answer.json()["outcomes"] == [AlertOutcome.OPENED] * 5 + [AlertOutcome.STORM] * 3
    post(group_of(4, start=8))
    tickets = Ticket.objects.filter(channel=Channel.ALERT)
    assert tickets.count() == 6
    storm = AlertGroup.objects.get(group_key='{}:{alertname="NodeDown"}').storm_ticket
    assert storm.title == 'Alert storm: {}:{alertname="NodeDown"}'
    assert Alert.objects.filter(ticket=storm).count() == 7
    assert storm.events.filter(kind="alert.storm_joined").count() == 7


def test_tickets_per_minute_budget_sends_the_rest_to_the_overflow_ticket(integration, post):
    integration.tickets_per_minute = 3
    integration.save()
    for i in range(5):
        post(group_of(1, start=i, name=f"Down{i}"))
    assert Alert.objects.filter(opened_ticket=True).count() == 3
    overflow = AlertGroup.objects.get(group_key="").storm_ticket
    assert Alert.objects.filter(ticket=overflow).count() == 2
    assert Ticket.objects.filter(channel=Channel.ALERT).count() == 4


def test_prune_twice_changes_nothing_the_second_time(integration, post):
    post(group_of(2))
    Delivery.objects.update(received_at=timezone.now() - timedelta(days=31))
    AlertGroup.objects.update(last_seen_at=timezone.now() - timedelta(hours=7))
    assert prune() == {"deliveries": 1, "groups": 1}
    assert prune() == {"deliveries": 0, "groups": 0}
    assert AlertGroup.objects.get().alert_count == 0


def test_periodic_jobs_are_scheduled():
    from django.conf import settings

    from incidents.tasks import end_stale_outage_banners

    assert settings.CELERY_BEAT_SCHEDULE["alerts.prune"]["task"] == prune.name
    entry = settings.CELERY_BEAT_SCHEDULE["incidents.end_stale_outage_banners"]
    assert entry["task"] == end_stale_outage_banners.name
