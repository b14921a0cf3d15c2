"""Notifications: stored once per dedupe key, delivered per channel, a failure isolated."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.choices import Channel, DeliveryStatus, WebhookKind
from notifications.models import Notification, WebhookEndpoint
from notifications.services import MAX_ATTEMPTS, notify, webhook_payload
from notifications.tasks import deliver_due


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length))
        _Hook.received.append((self.path, payload))
        if self.path == "/fail":
            self.send_response(500)
            self.end_headers()
            return
        answer = {"errcode": 93000, "errmsg": "invalid key"} if self.path == "/refuse" else {}
        body = json.dumps(answer or {"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def hook_server():
    """A real HTTP server on 127.0.0.1 (a free port) that records what it receives."""
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_same_dedupe_key_stores_and_sends_once(desk, django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            notify(
                recipients=[desk.tier1, desk.tier1, desk.expert],
                subject="SD-1 breached",
                body="First response was due at 10:00",
                dedupe_key="test:1",
            )
    rows = sorted(Notification.objects.values_list("channel", "recipient_id", "status"))
    assert rows == sorted(
        [
            (Channel.INBOX, desk.tier1.pk, DeliveryStatus.SENT),
            (Channel.EMAIL, desk.tier1.pk, DeliveryStatus.SENT),
            (Channel.INBOX, desk.expert.pk, DeliveryStatus.SENT),
            (Channel.EMAIL, desk.expert.pk, DeliveryStatus.SENT),
        ]
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted([desk.tier1.email, desk.expert.email])
    assert mail.outbox[0].subject == "SD-1 breached"


def test_internal_notifications_never_reach_a_requester(desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[desk.requester, desk.tier1],
            subject="Internal note",
            body="The vendor's patch is a hack",
            dedupe_key="test:internal",
        )
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {desk.tier1.pk}
    assert [m.to for m in mail.outbox] == [[desk.tier1.email]]
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[desk.requester],
            subject="Your request was resolved",
            body="Please confirm",
            dedupe_key="test:public",
            internal=False,
        )
    assert Notification.objects.filter(recipient=desk.requester).count() == 2


def test_webhooks_deliver_and_a_failing_one_retries_without_blocking_email(
    desk, hook_server, django_capture_on_commit_callbacks
):
    ok = WebhookEndpoint.objects.create(
        name="front WeCom", kind=WebhookKind.WECOM, url=f"{hook_server}/ok", team=desk.front
    )
    failing = WebhookEndpoint.objects.create(
        name="front Slack", kind=WebhookKind.SLACK, url=f"{hook_server}/fail", team=desk.front
    )
    refusing = WebhookEndpoint.objects.create(
        name="front DingTalk",
        kind=WebhookKind.DINGTALK,
        url=f"{hook_server}/refuse",
        team=desk.front,
    )
    WebhookEndpoint.objects.create(
        name="other team", kind=WebhookKind.FEISHU, url=f"{hook_server}/ok", team=desk.middle
    )
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[desk.tier1],
            subject="SD-2 breached",
            body="Resolution overdue",
            url="http://desk/SD-2",
            dedupe_key="test:hooks",
            team_id=desk.front.pk,
        )
    by_webhook = {n.webhook_id: n for n in Notification.objects.filter(channel=Channel.WEBHOOK)}
    assert set(by_webhook) == {ok.pk, failing.pk, refusing.pk}
    assert by_webhook[ok.pk].status == DeliveryStatus.SENT
    assert by_webhook[ok.pk].attempts == 1
    for endpoint in (failing, refusing):
        row = by_webhook[endpoint.pk]
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
        assert row.next_attempt_at - row.created_at >= timedelta(seconds=30)
    # Not due again before its backoff ends.
    assert deliver_due() == 0
    # The beat job tries again with backoff until the last attempt, then parks the row.
    moment = timezone.now()
    for _attempt in range(2, MAX_ATTEMPTS + 1):
        moment += timedelta(hours=1)
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert deliver_due() == 2
    with time_machine.travel(moment + timedelta(days=1), tick=False):
        assert deliver_due() == 0
    for endpoint, error in ((failing, "HTTP 500"), (refusing, "refused")):
        row = Notification.objects.get(pk=by_webhook[endpoint.pk].pk)
        assert (row.status, row.attempts, row.next_attempt_at) == (
            DeliveryStatus.FAILED,
            MAX_ATTEMPTS,
            None,
        )
        assert row.last_error.startswith(error)
    paths = [path for path, _ in _Hook.received]
    assert paths.count("/ok") == 1
    assert paths.count("/fail") == MAX_ATTEMPTS
    assert ("/ok", webhook_payload(WebhookKind.WECOM, "SD-2 breached", "Resolution overdue",
                                   "http://desk/SD-2")) in _Hook.received  # fmt: skip
    # E-mail went out regardless.
    assert [m.to for m in mail.outbox] == [[desk.tier1.email]]
    assert Notification.objects.get(channel=Channel.EMAIL).status == DeliveryStatus.SENT


def test_payload_shapes():
    assert webhook_payload(WebhookKind.WECOM, "S", "B", "") == {
        "msgtype": "text",
        "text": {"content": "S\nB"},
    }
    assert webhook_payload(WebhookKind.FEISHU, "S", "B", "u") == {
        "msg_type": "text",
        "content": {"text": "S\nB\nu"},
    }
    assert webhook_payload(WebhookKind.SLACK, "S", "B", "") == {"text": "S\nB"}


def test_inbox_page_and_mark_read(client, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[desk.tier1], subject="Hello inbox", body="b", dedupe_key="t:1")
        notify(recipients=[desk.expert], subject="Not yours", body="b", dedupe_key="t:2")
    mine = Notification.objects.get(recipient=desk.tier1, channel=Channel.INBOX)
    theirs = Notification.objects.get(recipient=desk.expert, channel=Channel.INBOX)
    assert client.get(reverse("notifications:inbox")).status_code == 302  # login first
    client.force_login(desk.tier1)
    page = client.get(reverse("notifications:inbox"))
    assert page.status_code == 200
    assert "Hello inbox" in page.content.decode() and "Not yours" not in page.content.decode()
    response = client.post(
        reverse("notifications:mark_read", args=[mine.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert response.content.decode().strip().startswith(f'<li id="notification-{mine.pk}"')
    mine.refresh_from_db()
    assert mine.read_at is not None
    missing = client.post(reverse("notifications:mark_read", args=[theirs.pk]))
    assert missing.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.post(reverse("notifications:mark_all_read")).status_code == 302


def test_inbox_api(client, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[desk.tier1], subject="API inbox", body="b", dedupe_key="api:1")
        notify(recipients=[desk.expert], subject="Other", body="b", dedupe_key="api:2")
    client.force_login(desk.tier1)
    listing = client.get("/api/notifications/").json()
    assert [n["subject"] for n in listing["results"]] == ["API inbox"]
    mine = listing["results"][0]["id"]
    theirs = Notification.objects.get(recipient=desk.expert, channel=Channel.INBOX).pk
    assert client.post(f"/api/notifications/{mine}/read/").json()["read_at"] is not None
    assert client.post(f"/api/notifications/{theirs}/read/").status_code == 404
    assert client.post("/api/notifications/read-all/").json() == {"marked": 0}


def test_stale_pending_rows_are_delivered_again(desk, django_capture_on_commit_callbacks):

    # Stored while the broker was unreachable: the after-commit enqueue never happened.
    with django_capture_on_commit_callbacks(execute=False):
        notify(recipients=[desk.tier1], subject="Lost", body="b", dedupe_key="stale:1")
    email = Notification.objects.get(channel=Channel.EMAIL)
    assert email.status == DeliveryStatus.PENDING
    assert deliver_due() == 0  # not stale yet
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver_due() == 1
        assert deliver_due() == 0
    email.refresh_from_db()
    assert (email.status, email.attempts) == (DeliveryStatus.SENT, 1)
    assert [m.subject for m in mail.outbox] == ["Lost"]


def test_outgoing_mail_carries_the_marker_the_mail_channel_cuts_replies_at():
    from mailin.strip import REPLY_MARKER as INBOUND
    from notifications.delivery import REPLY_MARKER as OUTBOUND

    assert OUTBOUND == INBOUND


def test_each_ticket_action_adds_at_most_three_queries_for_its_notifications(
    desk, django_assert_num_queries
):
    """Issue #11's budget: the notifications of one change are read and stored in bulk, three
    queries whatever the number of kinds and people (the ticket with the text of the change;
    the recipients with whether they follow and their preferences; one INSERT). Delivery runs
    after commit, in a worker."""
    from notifications.reactions import (
        on_assignment_changed,
        on_public_reply,
        on_status_changed,
    )
    from notifications.services import channels_by_kind
    from tests.factories import TicketFactory
    from tickets import services as tickets
    from tickets.services.following import ticket_follow

    ticket = TicketFactory(desk).queued(desk.front)
    tickets.ticket_assign(ticket_id=ticket.pk, actor=desk.tier1, assignee=desk.tier1)
    ticket_follow(ticket=ticket, actor=desk.tier2)
    channels_by_kind()  # the desk's rules: read once per 30 s per process, not per action

    def kinds(user) -> set[str]:
        return set(
            Notification.objects.filter(recipient=user, ticket=ticket).values_list(
                "kind", flat=True
            )
        )

    with django_assert_num_queries(3):
        on_assignment_changed(
            ticket_id=ticket.pk,
            new_assignee_id=desk.tier1.pk,
            old_assignee_id=None,
            actor_id=desk.tier2.pk,
            at="v1",
        )
    assert kinds(desk.tier1) == {"ticket.assigned_to_you"}
    tickets.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier1, resolution="Restarted it")
    with django_assert_num_queries(3):
        on_status_changed(
            ticket_id=ticket.pk, old="in_progress", new="resolved", actor_id=desk.tier1.pk, at="v2"
        )
    # Two kinds of message from one change, in the same three queries: the requester is asked
    # to confirm (with the resolution), the follower hears it changed, the actor nothing new.
    assert kinds(desk.requester) == {"ticket.please_confirm"}
    assert kinds(desk.tier2) == {"ticket.followed_changed"}
    assert kinds(desk.tier1) == {"ticket.assigned_to_you"}
    confirm = Notification.objects.get(recipient=desk.requester, channel=Channel.INBOX)
    assert confirm.params["resolution"] == "Restarted it"
    reply = tickets.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="Works again?")
    with django_assert_num_queries(3):
        on_public_reply(ticket_id=ticket.pk, comment_id=reply.pk, by_requester=False)
    assert kinds(desk.requester) == {"ticket.please_confirm", "ticket.desk_replied"}
