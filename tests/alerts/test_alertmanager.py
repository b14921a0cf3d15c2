"""Against a real Alertmanager 0.25 (Debian's prometheus-alertmanager) on loopback, whose
receiver is the desk under test (pytest-django's live server)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from alerts.choices import AlertStatus, IntegrationKind
from alerts.models import Alert, Delivery, MappingRule
from alerts.services import integration_create
from tickets.choices import Channel, Priority, Status
from tickets.models import Ticket

from .peers import Alertmanager, Relay, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "am-loopback-token"
PATH = "/api/integrations/alertmanager/"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert(name: str, instance: str, *, severity="critical", starts=None, ends=None) -> dict:
    body = {
        "labels": {"alertname": name, "instance": instance, "severity": severity, "job": "node"},
        "annotations": {"summary": f"{name} on {instance}"},
        "startsAt": iso(starts or datetime.now(UTC) - timedelta(minutes=1)),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
    }
    if ends is not None:
        body["endsAt"] = iso(ends)
    return body


@pytest.fixture
def integration(desk):
    integration, _token = integration_create(
        actor=None, name="Prometheus", kind=IntegrationKind.ALERTMANAGER, token=TOKEN
    )
    MappingRule.objects.create(
        name="core", order=10, matchers=[["alertname", "=~", "Core.*"]], system=desk.system
    )
    return integration


def alert_tickets():
    return Ticket.objects.filter(channel=Channel.ALERT)


def test_firing_repeat_and_recovery(integration, live_server, tmp_path):
    starts = datetime.now(UTC) - timedelta(minutes=2)
    with (
        Relay(live_server.url) as relay,
        Alertmanager(tmp_path, url=relay.url + PATH, token=TOKEN, repeat_interval="2s") as am,
    ):
        am.push([alert("CoreDown", "db01:9100", starts=starts)])
        wait_for(lambda: alert_tickets().count() == 1, what="the ticket")
        # Alertmanager sends the same group again after repeat_interval: same ticket, count 2.
        wait_for(lambda: Alert.objects.filter(count__gte=2).exists(), what="the repeat")
        assert alert_tickets().count() == 1
        ticket = alert_tickets().get()
        assert ticket.priority == Priority.P1
        assert ticket.system == integration.rules.model.objects.get().system
        # Resolved (endsAt in the past): recorded, and nobody took the ticket: resolved.
        am.push([alert("CoreDown", "db01:9100", starts=starts, ends=datetime.now(UTC))])
        wait_for(
            lambda: Alert.objects.filter(status=AlertStatus.RESOLVED).exists(), what="recovery"
        )
    assert alert_tickets().count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert Alert.objects.get().ticket_id == ticket.pk


def test_a_failed_delivery_is_retried_and_never_duplicates(integration, live_server, tmp_path):
    with (
        Relay(live_server.url, fail_first=True) as relay,
        Alertmanager(tmp_path, url=relay.url + PATH, token=TOKEN) as am,
    ):
        am.push([alert("CoreDown", "db02:9100")])
        # The desk stored the first delivery, the relay answered 500, Alertmanager retried.
        wait_for(lambda: relay.statuses[:2] == [500, 200], what="the retry")
    assert alert_tickets().count() == 1
    assert Alert.objects.get().count == 2


def test_wrong_token_is_401_and_opens_nothing(integration, live_server, tmp_path):
    with (
        Relay(live_server.url) as relay,
        Alertmanager(tmp_path, url=relay.url + PATH, token="not-the-token") as am,
    ):
        am.push([alert("CoreDown", "db03:9100")])
        wait_for(lambda: 401 in relay.statuses, what="a 401")
        # A 4xx is final: Alertmanager does not retry it.
        assert set(relay.statuses) == {401}
    assert not alert_tickets().exists()
    assert not Alert.objects.exists()


def test_max_alerts_truncation_is_recorded(integration, live_server, tmp_path):
    integration.storm_threshold = 100
    integration.save()
    with (
        Relay(live_server.url) as relay,
        Alertmanager(
            tmp_path, url=relay.url + PATH, token=TOKEN, group_by=("alertname",), max_alerts=10
        ) as am,
    ):
        am.push([alert("DiskFull", f"host{i:02d}:9100", severity="warning") for i in range(50)])
        wait_for(lambda: Delivery.objects.filter(truncated_alerts=40).exists(), what="delivery")
    delivery = Delivery.objects.get(truncated_alerts=40)
    assert delivery.alert_count == 10
    assert Alert.objects.count() == 10
    assert alert_tickets().count() == 10
    group = Alert.objects.first().group
    assert group.truncated_total >= 40


def test_five_hundred_alerts_give_bounded_tickets_and_p1_only_for_critical(
    integration, live_server, tmp_path
):
    integration.storm_threshold = 20
    integration.tickets_per_minute = 60
    integration.save()
    names = [("CoreDownA", "critical"), ("CoreDownB", "critical"), ("CoreSlowA", "warning"),
             ("DiskWarnA", "warning"), ("EdgeDownA", "critical")]  # fmt: skip
    with (
        Relay(live_server.url) as relay,
        Alertmanager(
            tmp_path,
            url=relay.url + PATH,
            token=TOKEN,
            group_by=("alertname",),
            group_wait="2s",
            group_interval="30s",
        ) as am,
    ):
        batch = [
            alert(name, f"host{i:03d}:9100", severity=severity)
            for name, severity in names
            for i in range(100)
        ]
        for start in range(0, 500, 50):
            am.push(batch[start : start + 50])
        wait_for(lambda: Alert.objects.count() == 500, timeout=240, what="all 500 alerts")
    # At most 60 tickets opened in each minute (the budget is per clock minute).
    per_minute = Counter(
        int(seen.timestamp()) // 60
        for seen in Alert.objects.filter(opened_ticket=True).values_list("first_seen_at", flat=True)
    )
    # The deliveries may straddle a minute boundary (then two minutes share the opened
    # tickets), but no minute goes over its budget and the budget was used.
    assert max(per_minute.values()) <= 60
    assert sum(per_minute.values()) >= 60
    # Own tickets within the budget, plus at most one storm ticket per group and the overflow.
    storm_tickets = alert_tickets().count() - sum(per_minute.values())
    assert 1 <= storm_tickets <= len(names) + 1
    assert alert_tickets().count() == len(set(Alert.objects.values_list("ticket_id", flat=True)))
    for ticket in alert_tickets().filter(priority=Priority.P1):
        severities = set(ticket.alerts.values_list("severity", flat=True))
        assert "critical" in severities and ticket.system_id is not None
    for a in Alert.objects.filter(opened_ticket=True).select_related("ticket"):
        # Impact extensive on the core system (routing) × urgency from severity.
        expected = {"CoreDownA": Priority.P1, "CoreDownB": Priority.P1, "CoreSlowA": Priority.P2,
                    "EdgeDownA": Priority.P2, "DiskWarnA": Priority.P3}[a.alertname]  # fmt: skip
        assert a.ticket.priority == expected, (a.alertname, a.ticket.priority)
