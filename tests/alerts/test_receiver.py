"""The Alertmanager receiver, replaying the deliveries a real Alertmanager 0.25 sent."""

from __future__ import annotations

import copy
import json

import pytest

from alerts.choices import AlertOutcome, AlertStatus
from alerts.models import Alert, AlertGroup, Delivery
from tickets.choices import Channel, Priority, Status
from tickets.models import Ticket, TicketEvent

from .conftest import captured

pytestmark = pytest.mark.django_db


def sequence() -> list[dict]:
    return [r["body"] for r in captured("alertmanager_payloads_sequence.json")["requests"]]


def test_captured_sequence_gives_one_ticket_per_alert_counts_repeats_and_resolves(
    integration, post
):
    answers = [post(body) for body in sequence()]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["outcomes"] for a in answers] == [
        ["opened"], ["opened"], ["repeated"], ["repeated"], ["auto_resolved"],
    ]  # fmt: skip
    tickets = Ticket.objects.filter(channel=Channel.ALERT).order_by("id")
    assert tickets.count() == 2
    db01, db02 = tickets
    alert1 = Alert.objects.get(fingerprint="0bc5e9abcfbf2e55")
    # Three deliveries carried it: the first firing, the repeat, the recovery.
    assert (alert1.count, alert1.status, alert1.ticket_id) == (3, AlertStatus.RESOLVED, db01.pk)
    assert Alert.objects.get(fingerprint="d8cfe979a288cbca").count == 2
    db01.refresh_from_db()
    db02.refresh_from_db()
    # Nobody took db01's ticket: the recovery resolved it; db02 still fires.
    assert db01.status == Status.RESOLVED
    assert "recovered" in db01.resolution
    assert db02.status != Status.RESOLVED
    # A fault on the core system with severity critical is P1 (routing ran in-process).
    assert (db01.priority, db02.priority) == (Priority.P1, Priority.P1)
    assert db01.title == "[critical] NodeDown: 主机 db01 无法访问 / host db01 unreachable"
    assert "instance=db01:9100" in db01.description
    assert "http://127.0.0.1:9090/graph?g0.expr=up+%3D%3D+0" in db01.description
    assert db01.external_ref == "0bc5e9abcfbf2e55@2026-11-21T23:54:17.377892+00:00"
    kinds = list(TicketEvent.objects.filter(ticket=db01).values_list("kind", flat=True))
    assert kinds.count("alert.repeated") == 1
    assert kinds.count("alert.recovered") == 1
    assert Delivery.objects.count() == 5


def test_prometheus_rule_capture_opens_one_ticket(integration, post):
    body = captured("alertmanager_payload_from_prometheus_rule.json")["body"]
    assert post(body).status_code == 200
    ticket = Ticket.objects.get(channel=Channel.ALERT)
    assert ticket.system.code == "trading"
    assert ticket.title.startswith("[critical] TargetDown")


def test_a_retried_delivery_never_duplicates(integration, post):
    body = captured("alertmanager_payload.json")
    post(body)
    post(body)
    post(body)
    assert Ticket.objects.filter(channel=Channel.ALERT).count() == 1
    assert Alert.objects.get().count == 3


def test_recovery_of_a_taken_ticket_is_recorded_not_resolved(integration, post, desk):
    from tickets import services

    post(sequence()[0])
    ticket = Ticket.objects.get(channel=Channel.ALERT)
    # Routing sent the P1 fault to the on-duty middle office and assigned it there: that is
    # the desk's doing, not an agent taking it. The expert writing on it is.
    assert (ticket.team, ticket.assignee, ticket.status) == (
        desk.middle, desk.expert, Status.IN_PROGRESS,
    )  # fmt: skip
    services.comment_add(
        ticket_id=ticket.pk, actor=desk.expert, body="Looking at db01", is_internal=True
    )
    answer = post(sequence()[4])
    assert answer.json()["outcomes"] == [AlertOutcome.RESOLVED]
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert TicketEvent.objects.filter(ticket=ticket, kind="alert.recovered").count() == 1


def test_auto_resolve_can_be_switched_off(integration, post):
    integration.auto_resolve = False
    integration.save()
    post(sequence()[0])
    assert post(sequence()[4]).json()["outcomes"] == [AlertOutcome.RESOLVED]
    assert Ticket.objects.get(channel=Channel.ALERT).status == Status.IN_PROGRESS


def test_new_starts_at_reuses_the_open_ticket_or_opens_a_new_one(integration, post):
    first = sequence()[0]
    post(first)
    again = copy.deepcopy(first)
    again["alerts"][0]["startsAt"] = "2026-11-22T01:00:00Z"
    assert post(again).json()["outcomes"] == [AlertOutcome.REOPENED]
    assert Ticket.objects.filter(channel=Channel.ALERT).count() == 1
    integration.new_occurrence = "new_ticket"
    integration.save()
    third = copy.deepcopy(first)
    third["alerts"][0]["startsAt"] = "2026-11-22T02:00:00Z"
    assert post(third).json()["outcomes"] == [AlertOutcome.OPENED]
    assert Ticket.objects.filter(channel=Channel.ALERT).count() == 2


def test_new_starts_at_after_auto_resolution_brings_the_ticket_back(integration, post):
    post(sequence()[0])
    post(sequence()[4])
    ticket = Ticket.objects.get(channel=Channel.ALERT)
    assert ticket.status == Status.RESOLVED
    again = copy.deepcopy(sequence()[0])
    again["alerts"][0]["startsAt"] = "2026-11-22T01:00:00Z"
    assert post(again).json()["outcomes"] == [AlertOutcome.REOPENED]
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.reopen_count == 1


def test_resolved_without_firing_is_recorded_without_a_ticket(integration, post):
    assert post(sequence()[4]).json()["outcomes"] == [AlertOutcome.ORPHAN_RESOLVED]
    assert not Ticket.objects.filter(channel=Channel.ALERT).exists()
    assert Alert.objects.get().status == AlertStatus.RESOLVED


def test_warning_on_core_is_p2_and_critical_elsewhere_is_p2(integration, post):
    body = copy.deepcopy(sequence()[0])
    body["alerts"][0]["labels"]["severity"] = "warning"
    body["alerts"][0]["fingerprint"] = "warn"
    post(body)
    elsewhere = copy.deepcopy(sequence()[0])
    elsewhere["alerts"][0]["labels"]["instance"] = "web07:9100"
    elsewhere["alerts"][0]["fingerprint"] = "web07"
    post(elsewhere)
    priorities = dict(Ticket.objects.values_list("external_ref", "priority"))
    assert sorted(priorities.values()) == [Priority.P2, Priority.P2]


def test_truncated_alerts_are_recorded(integration, post):
    body = copy.deepcopy(sequence()[0])
    body["truncatedAlerts"] = 40
    assert post(body).status_code == 200
    assert Delivery.objects.get().truncated_alerts == 40
    assert AlertGroup.objects.get(group_key=body["groupKey"]).truncated_total == 40
    event = TicketEvent.objects.get(kind="alert.truncated")
    assert event.data["truncated_alerts"] == 40


@pytest.mark.parametrize(
    ("token", "status"), [(None, 401), ("wrong", 401), ("test-shared-secret", 200)]
)
def test_bearer_token(integration, post, token, status):
    answer = post(sequence()[0], token=token)
    assert answer.status_code == status
    assert Ticket.objects.filter(channel=Channel.ALERT).count() == (1 if status == 200 else 0)
    if status == 401:
        assert answer["WWW-Authenticate"].startswith("Bearer")
        assert "authorization" in answer.json()["errors"]


def test_token_in_the_url_is_not_accepted(integration, client):
    answer = client.post(
        "/api/integrations/alertmanager/?token=test-shared-secret",
        data=json.dumps(sequence()[0]),
        content_type="application/json",
    )
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "non_field_errors"),
        (b"[]", "non_field_errors"),
        ({**captured("alertmanager_payload.json"), "version": "3"}, "version"),
        ({**captured("alertmanager_payload.json"), "alerts": "x"}, "alerts"),
        ({**captured("alertmanager_payload.json"), "truncatedAlerts": -1}, "truncatedAlerts"),
    ],
)
def test_malformed_payloads_are_400_with_field_messages(integration, post, body, field):
    answer = post(body)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert not Ticket.objects.exists() or not Ticket.objects.filter(channel=Channel.ALERT)


def test_malformed_alert_names_its_field(integration, post):
    body = copy.deepcopy(sequence()[0])
    body["alerts"][0]["startsAt"] = "yesterday"
    body["alerts"][0]["labels"] = {"a": 1}
    answer = post(body)
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"alerts[0].startsAt", "alerts[0].labels"}


def test_over_two_megabytes_is_413(integration, post):
    body = copy.deepcopy(sequence()[0])
    body["alerts"][0]["annotations"]["description"] = "x" * (2 * 1024 * 1024)
    answer = post(body)
    assert answer.status_code == 413
    assert not Alert.objects.exists()


def test_get_is_405(integration, client):
    assert client.get("/api/integrations/alertmanager/").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_transient_database_fault_is_503_and_the_retry_stores_once(integration, post):
    """A lock held elsewhere (lock_timeout hit) is transient: 503, and the retry is stored."""
    from django.db import connection

    body = sequence()[0]
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '1ms'")
    from django.db import connections

    # Another connection holds the group row the delivery must lock.
    from alerts.models import AlertGroup as Group

    Group.objects.create(integration=integration, group_key=body["groupKey"])
    other = connections.create_connection("default")
    other.set_autocommit(False)
    with other.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM alerts_alertgroup WHERE group_key = %s FOR UPDATE", [body["groupKey"]]
        )
        answer = post(body)
    other.rollback()
    other.close()
    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = 0")
    assert post(body).status_code == 200
    assert Ticket.objects.filter(channel=Channel.ALERT).count() == 1


def test_a_mapping_rule_team_takes_the_ticket_after_routing(integration, post, desk):
    from alerts.models import MappingRule

    MappingRule.objects.filter(name="core hosts").update(team=desk.back)
    post(sequence()[0])
    ticket = Ticket.objects.get(channel=Channel.ALERT)
    # ... and, as after every hand-over, assigned by that team's strategy.
    assert (ticket.team, ticket.status, ticket.assignee) == (
        desk.back,
        Status.IN_PROGRESS,
        desk.engineer,
    )
    assert ticket.events.filter(kind="ticket.team_changed").count() == 2  # routing, then rule


def _delivery(n: int, prefix: str) -> dict:
    """A delivery of `n` new alerts of one group, in the captured payload's shape."""
    body = copy.deepcopy(captured("alertmanager_payload.json"))
    template = body["alerts"][0]
    body["alerts"] = [
        {
            **copy.deepcopy(template),
            "labels": {**template["labels"], "instance": f"{prefix}{i}:9100"},
            "fingerprint": f"{prefix}{i:014x}",
        }
        for i in range(n)
    ]
    body["groupKey"] = f'{{}}:{{alertname="NodeDown", batch="{prefix}"}}'
    return body


def test_a_delivery_stores_its_new_alerts_set_based(integration):
    """The receiver's own statements do not grow with the alerts of a delivery: their tickets
    are opened in one bulk intake and their rows written in one INSERT (the intake reactions
    run after commit, in the intake queue)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts import services
    from alerts.payloads import parse_alertmanager

    integration.storm_threshold = integration.tickets_per_minute = 1_000
    integration.save(update_fields=["storm_threshold", "tickets_per_minute"])
    counts = []
    for n, prefix in ((10, "a"), (30, "b")):
        with CaptureQueriesContext(connection) as queries:
            result = services.delivery_receive(
                integration=integration, incoming=parse_alertmanager(_delivery(n, prefix))
            )
        assert result.outcomes == ["opened"] * n
        assert len(result.ticket_numbers) == n
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Savepoints included: the delivery and its group, what is known of its alerts (two), the
    # rules, one check of known references, one number range, one INSERT each of tickets, log
    # rows, (search documents) and alerts, the group's and the delivery's totals.
    assert counts[1] <= 23
    tickets = Ticket.objects.filter(channel=Channel.ALERT)
    assert tickets.count() == 40
    assert TicketEvent.objects.filter(ticket__in=tickets, kind="ticket.created").count() == 40
    assert Alert.objects.filter(ticket__isnull=False, opened_ticket=True).count() == 40
    last = f"b{29:014x}"
    ticket = Ticket.objects.get(external_ref__startswith=f"{last}@")
    assert ticket.alerts.get().fingerprint == last
    # The bulk search document is the one `search_document_update` builds for the ticket.
    from tickets.models import TicketSearchDocument
    from tickets.search import search_document_update

    bulk = TicketSearchDocument.objects.values("public", "staff").get(ticket=ticket)
    search_document_update(ticket_id=ticket.pk)
    assert TicketSearchDocument.objects.values("public", "staff").get(ticket=ticket) == bulk


def test_a_bulk_delivery_repeated_counts_every_alert_once_more(integration, post):
    integration.storm_threshold = integration.tickets_per_minute = 1_000
    integration.save(update_fields=["storm_threshold", "tickets_per_minute"])
    body = _delivery(25, "c")
    first, again = post(body).json(), post(body).json()
    assert first["outcomes"] == ["opened"] * 25
    assert again["outcomes"] == ["repeated"] * 25
    assert again["tickets"] == first["tickets"]
    assert Ticket.objects.filter(channel=Channel.ALERT).count() == 25
    assert set(Alert.objects.values_list("count", flat=True)) == {2}
    # The intake reactions ran for each new ticket after the commit (routing prioritised them:
    # critical on a system that is not core is P2, not the default P3).
    assert set(Ticket.objects.values_list("priority", flat=True)) == {Priority.P2}


def test_an_alert_repeated_within_one_delivery_is_one_ticket(integration, post):
    body = _delivery(3, "d")
    body["alerts"].append(copy.deepcopy(body["alerts"][1]))
    answer = post(body).json()
    assert answer["outcomes"] == ["opened", "opened", "opened", "repeated"]
    assert len(answer["tickets"]) == 3
    assert Alert.objects.get(fingerprint=body["alerts"][1]["fingerprint"]).count == 2
