"""Fixtures of the alerts tests: an Alertmanager integration with a known token, and the
captured deliveries of a real Alertmanager 0.25 (copied from ../shared/data/alertmanager/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alerts.choices import IntegrationKind
from alerts.models import MappingRule
from alerts.services import integration_create

# Copies of ../shared/data/alertmanager/, so the tests need nothing outside the checkout.
CAPTURED = Path(__file__).resolve().parent / "captured"
TOKEN = "test-shared-secret"


def captured(name: str) -> dict:
    return json.loads((CAPTURED / name).read_text(encoding="utf-8"))


@pytest.fixture
def integration(desk):
    # The per-minute ticket budget lives in Redis, keyed by the integration's id and the
    # minute: the run starts with an empty test Redis (tests/conftest.py), so no earlier
    # run's count spends this test's budget.
    integration, _token = integration_create(
        actor=None, name="Prometheus", kind=IntegrationKind.ALERTMANAGER, token=TOKEN
    )
    # db01/db02 and TargetDown on the core trading system; everything else unmapped.
    MappingRule.objects.create(
        name="core hosts",
        order=10,
        matchers=[["instance", "=~", "db0[0-9]:9100|127\\.0\\.0\\.1:8001"]],
        system=desk.system,
    )
    return integration


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a delivery; the after-commit reactions (routing) run as they would in production."""

    def poster(body, *, token=TOKEN, path="/api/integrations/alertmanager/", **headers):
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        if token is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data=data, content_type="application/json", **extra)

    return poster
