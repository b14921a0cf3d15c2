"""Grafana's contact-point webhook and the desk's signed JSON webhook (monitors, chat bots)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from accounts.choices import Role
from alerts.choices import AlertOutcome, IntegrationKind
from alerts.models import Alert, Delivery
from alerts.services import integration_create, integration_rotate_token
from tests.factories import UserFactory
from tickets.choices import Channel, Priority, Status
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

GRAFANA = {
    "receiver": "servicedesk",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighLatency", "grafana_folder": "Core",
                       "instance": "db01:9100", "severity": "critical"},
            "annotations": {"summary": "p99 latency above 2 s"},
            "startsAt": "2026-12-06T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://grafana.example/alerting/grafana/abc/view",
            "fingerprint": "57c6d9296de2ad39",
            "silenceURL": "http://grafana.example/alerting/silence/new",
            "dashboardURL": "http://grafana.example/d/x",
            "panelURL": "http://grafana.example/d/x?viewPanel=2",
            "values": {"B": 2.4},
            "valueString": "[ var='B' value=2.4 ]",
        }
    ],
    "groupLabels": {"alertname": "HighLatency"},
    "commonLabels": {"alertname": "HighLatency"},
    "commonAnnotations": {},
    "externalURL": "http://grafana.example/",
    "version": "1",
    "groupKey": '{}:{alertname="HighLatency"}',
    "truncatedAlerts": 0,
    "title": "[FIRING:1] HighLatency",
    "state": "alerting",
    "message": "...",
}  # fmt: skip


@pytest.fixture
def grafana(integration):
    _grafana, token = integration_create(actor=None, name="Grafana", kind=IntegrationKind.GRAFANA)
    return token


def test_grafana_contact_point_opens_a_mapped_ticket(grafana, post, desk):
    answer = post(GRAFANA, token=grafana, path="/api/integrations/grafana/")
    assert answer.status_code == 200, answer.content
    ticket = Ticket.objects.get(channel=Channel.ALERT)
    assert ticket.system == desk.system  # the "core hosts" rule (instance db01)
    assert ticket.priority == Priority.P1
    assert post(GRAFANA, token=grafana, path="/api/integrations/grafana/").json()["outcomes"] == [
        AlertOutcome.REPEATED
    ]


def test_tokens_are_per_integration(grafana, post):
    # The Alertmanager token does not open Grafana's door, and the other way round.
    assert post(GRAFANA, path="/api/integrations/grafana/").status_code == 401
    assert post(GRAFANA, token=grafana).status_code == 401


def test_grafana_unknown_version_is_400(grafana, post):
    answer = post({**GRAFANA, "version": "2"}, token=grafana, path="/api/integrations/grafana/")
    assert answer.status_code == 400
    assert "version" in answer.json()["errors"]


def test_rotated_token_replaces_the_old_one(integration, post):
    from .conftest import TOKEN, captured

    new = integration_rotate_token(actor=None, integration_id=integration.pk)
    assert post(captured("alertmanager_payload.json"), token=TOKEN).status_code == 401
    assert post(captured("alertmanager_payload.json"), token=new).status_code == 200
    integration.refresh_from_db()
    assert integration.token_hash == hashlib.sha256(new.encode()).hexdigest()
    assert new not in json.dumps(list(Delivery.objects.values()), default=str)


@pytest.fixture
def monitor(desk):
    integration, _token = integration_create(
        actor=None, name="Zabbix", kind=IntegrationKind.WEBHOOK
    )
    return integration


@pytest.fixture
def chatbot(desk):
    integration, _token = integration_create(
        actor=None, name="WeCom bot", kind=IntegrationKind.CHATBOT
    )
    return integration


def signed(client, integration, body: dict, *, key: str | None = "k-1", secret=None):
    raw = json.dumps(body).encode()
    signature = hmac.new((secret or integration.hmac_secret).encode(), raw, hashlib.sha256)
    headers = {"HTTP_X_DESK_SIGNATURE": f"sha256={signature.hexdigest()}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(
        f"/api/integrations/webhook/{integration.slug}/",
        data=raw,
        content_type="application/json",
        **headers,
    )


def test_signed_webhook_opens_once_per_idempotency_key(client, monitor):
    body = {"title": "Disk full on fs01", "text": "/data at 99%", "severity": "warning"}
    first = signed(client, monitor, body)
    assert first.status_code == 200
    again = signed(client, monitor, body)
    assert again.json()["replayed"] is True
    assert again.json()["tickets"] == first.json()["tickets"]
    assert Ticket.objects.filter(channel=Channel.ALERT).count() == 1
    assert Alert.objects.get().count == 1
    other = signed(client, monitor, {**body, "title": "Disk full on fs02"}, key="k-2")
    assert other.json()["outcomes"] == [AlertOutcome.OPENED]


def test_signed_webhook_resolves_by_fingerprint(
    client, monitor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed(client, monitor, {"title": "Ping loss", "fingerprint": "fs01-ping"}, key="a")
    with django_capture_on_commit_callbacks(execute=True):
        answer = signed(
            client,
            monitor,
            {"title": "Ping loss", "fingerprint": "fs01-ping", "status": "resolved"},
            key="b",
        )
    assert answer.json()["outcomes"] == [AlertOutcome.AUTO_RESOLVED]
    assert Ticket.objects.get(channel=Channel.ALERT).status == Status.RESOLVED


@pytest.mark.parametrize("bad", ["sha256=00", "", "md5=abc"])
def test_bad_signature_is_401(client, monitor, bad):
    answer = client.post(
        f"/api/integrations/webhook/{monitor.slug}/",
        data=b'{"title": "x"}',
        content_type="application/json",
        HTTP_X_DESK_SIGNATURE=bad,
    )
    assert answer.status_code == 401
    assert not Ticket.objects.exists()


def test_signature_with_another_secret_is_401(client, monitor):
    assert signed(client, monitor, {"title": "x"}, secret="guess").status_code == 401


def test_unknown_slug_is_401(client):
    answer = client.post(
        "/api/integrations/webhook/nope/", data=b"{}", content_type="application/json"
    )
    assert answer.status_code == 401


def test_signed_webhook_field_errors(client, monitor):
    answer = signed(client, monitor, {"title": "", "status": "maybe", "labels": [1]})
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"title", "status", "labels"}


def test_chat_bot_posts_a_request_for_a_person(client, chatbot, desk):
    answer = signed(
        client,
        chatbot,
        {
            "title": "VPN will not connect",
            "text": "since 9:00",
            "requester": desk.requester.username,
        },
    )
    assert answer.status_code == 200
    ticket = Ticket.objects.get(channel=Channel.CHATBOT)
    assert ticket.requester == desk.requester
    assert ticket.title == "VPN will not connect"


def test_chat_bot_unknown_person_falls_back_to_the_bot(client, chatbot):
    outsider = UserFactory(username="nobody-special", roles=[Role.MANAGER])
    signed(client, chatbot, {"title": "Help", "requester": outsider.username})
    assert Ticket.objects.get(channel=Channel.CHATBOT).requester == chatbot.user


def test_only_configurers_create_integrations(desk):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        integration_create(actor=desk.expert, name="x", kind=IntegrationKind.GRAFANA)
    integration, token = integration_create(
        actor=desk.admin, name="Grafana prod", kind=IntegrationKind.GRAFANA
    )
    assert token.startswith("sdi_") and integration.token_hint == token[:8]
    assert integration.token_hash != token
