"""The requester's e-mails over a ticket's life: a real Celery worker delivers to a real SMTP
server (aiosmtpd) on loopback; an SMTP outage delays mail and loses none."""

from __future__ import annotations

import email
import email.policy
import os
import socket

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from notifications.choices import Channel, DeliveryStatus
from notifications.models import Notification
from notifications.tasks import deliver_due
from tests.factories import TicketFactory
from tests.sla.test_worker_integration import _redis_url, _start, _stop, _wait_for
from tickets import services
from tickets.choices import PendingReason, Status
from tickets.models import Ticket

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

INTERNAL = ("INTERNAL-NOTE-SECRET", "INTERNAL-DISPATCH-REASON")


class Inbox:
    """aiosmtpd handler: every message received, parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    def subjects(self, address: str) -> list[str]:
        # A folded, encoded Subject parses with the fold's leading space.
        return sorted(str(m["Subject"]).strip() for m in self.to(address))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Smtp:
    """A real SMTP server on a fixed loopback port that can go down and come back."""

    def __init__(self) -> None:
        self.port, self.inbox, self.controller = _free_port(), Inbox(), None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = Smtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_worker(smtp, tmp_path, settings):
    port = smtp.port
    settings.EMAIL_BACKEND = "notifications.smtp.EmailBackend"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings.test",
        "DATABASE_URL": (
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
            f"{connection.settings_dict['PORT']}/{connection.settings_dict['NAME']}"
        ),
        "REDIS_URL": _redis_url(),
        "DB_CONN_MAX_AGE": "0",
        "EMAIL_BACKEND": "notifications.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "NOTIFICATION_RETRY_SECONDS": "1",
        "MAIL_DOMAIN": "desk.example.com",
    }
    log = tmp_path / "worker.log"
    worker = _start(
        ["worker", "--pool=solo", "--loglevel=INFO", "-Q", "delivery", "-n", "mail@%h"], env, log
    )
    _wait_for(lambda: "ready" in log.read_text(), 30, "the delivery worker")
    yield
    _stop(worker)


def test_the_requester_gets_exactly_the_expected_mails_threaded_in_their_language(
    desk, smtp, mail_worker
):
    inbox = smtp.inbox
    requester = desk.requester
    requester.language = "zh-hans"
    requester.save(update_fields=["language"])

    ticket = TicketFactory(desk).new(title="打印机卡纸")  # commits: the receipt
    ticket = services.ticket_route(
        ticket_id=ticket.pk, actor=None, tier=desk.front.tier, team=desk.front
    )
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body=INTERNAL[0], is_internal=True)
    services.ticket_suspend(
        ticket_id=ticket.pk,
        actor=desk.tier1,
        reason=PendingReason.REQUESTER,
        note="请提供打印机型号。",
    )
    services.comment_add(ticket_id=ticket.pk, actor=requester, body="HP LaserJet 401")
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="已更换搓纸轮，请再试。")
    services.ticket_set_priority(
        ticket_id=ticket.pk, actor=desk.tier2, priority="P3", reason=INTERNAL[1]
    )
    services.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier1, resolution="更换了搓纸轮。")
    services.ticket_confirm(ticket_id=ticket.pk, actor=requester)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.CLOSED

    subjects = [
        f"[{ticket.number}] 我们已收到您的请求",
        f"[{ticket.number}] 我们需要您补充信息",
        f"[{ticket.number}] 服务台的新回复",
        f"[{ticket.number}] 已修复——请确认",
    ]
    survey = f"服务满意度调查：{ticket.number} 打印机卡纸"  # the closed ticket's survey
    _wait_for(lambda: len(inbox.to(requester.email)) >= len(subjects) + 1, 60, "the mails")
    _wait_for(lambda: not Notification.objects.filter(status="pending").exists(), 30, "all sent")
    root = f"<{ticket.number}@desk.example.com>"
    assert inbox.subjects(requester.email) == sorted([*subjects, survey])
    # The desk's messages about the ticket, threaded (the survey is a message of its own).
    mails = sorted(
        (m for m in inbox.to(requester.email) if f"[{ticket.number}]" in str(m["Subject"])),
        key=lambda m: m["Message-ID"] != root,
    )
    assert len(mails) == len(subjects)
    assert mails[0]["Message-ID"] == root
    for message in mails:
        assert message["In-Reply-To"] == root and message["References"] == root
        assert message["Auto-Submitted"] == "auto-generated"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        for secret in INTERNAL:
            assert secret not in text and secret not in html
    bodies = {str(m["Subject"]).strip(): m.get_body(("plain",)).get_content() for m in mails}
    assert "请提供打印机型号。" in bodies[subjects[1]]
    assert "已更换搓纸轮，请再试。" in bodies[subjects[2]]
    assert "更换了搓纸轮。" in bodies[subjects[3]]
    assert f"/portal/requests/{ticket.number}/" in bodies[subjects[3]]
    assert len({m["Message-ID"] for m in mails}) == len(mails)
    # The agent heard that the requester replied and confirmed; never a requester's mail.
    assert inbox.subjects(desk.tier1.email) == sorted(
        [
            f"[{ticket.number}] The requester replied",
            f"[{ticket.number}] The requester confirmed the fix",
        ]
    )


def test_an_smtp_outage_delays_mail_and_loses_none(desk, smtp, mail_worker):
    inbox = smtp.inbox
    smtp.stop()
    ticket = TicketFactory(desk).new(title="VPN drops every hour")
    # The change is committed at once, whatever the mail server does.
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    row = Notification.objects.get(ticket=ticket, channel=Channel.EMAIL, kind="ticket.received")
    _wait_for(lambda: Notification.objects.get(pk=row.pk).attempts >= 1, 30, "a failed try")
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and row.next_attempt_at is not None
    assert row.last_error

    smtp.start()  # the server is back on the same port
    _wait_for(
        lambda: (
            deliver_due() >= 0 and Notification.objects.get(pk=row.pk).status == DeliveryStatus.SENT
        ),
        60,
        "the retry",
    )
    assert inbox.subjects(desk.requester.email) == [f"[{ticket.number}] We received your request"]
