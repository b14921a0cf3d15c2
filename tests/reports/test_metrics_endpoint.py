"""/metrics: protected by a token or an allow-list; the desk's own gauges and counters."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from reports.metrics import CACHE_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_samples():
    cache.delete(CACHE_KEY)
    yield
    cache.delete(CACHE_KEY)


def test_metrics_from_an_allowed_address(report_desk, client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    # T4 is the one open ticket: P1, queued in the front office.
    assert 'servicedesk_open_tickets{priority="P1",status="queued",tier="front"} 1.0' in text
    # Breached clocks: T2 and T4 first response, T2 and T4 resolution.
    assert 'servicedesk_sla_breaches_total{metric="first_response"} 2.0' in text
    assert 'servicedesk_sla_breaches_total{metric="resolution"} 2.0' in text
    assert "servicedesk_intake_queue_depth 0.0" in text
    assert 'servicedesk_notifications{status="failed"} 0.0' in text
    assert "servicedesk_classifier_confidence_bucket" in text
    assert "django_http_requests_total_by_method_total" in text


def test_metrics_need_a_token_elsewhere(report_desk, client, settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    right = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert right.status_code == 200


def test_metrics_without_token_configured_refuse_outsiders(db, client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403
