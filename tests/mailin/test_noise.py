"""Loop and noise protection: automatic mail, bounces, echoes and floods open no ticket and
get no answer."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail as django_mail

from mailin.choices import Outcome
from mailin.imap import poll_mailbox
from mailin.models import FlaggedAddress, InboundMessage
from mailin.selectors import address_is_flagged
from mailin.services import message_ingest
from notifications.models import Notification
from tests.factories import TicketFactory
from tests.mailin.conftest import configure
from tests.mailin.messages import plain, raw
from tickets.models import Comment, Ticket, TicketEvent

AUTO_HEADERS = [
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated"},
    {"Auto-Submitted": "auto-notified; owner-email=x@y"},
    {"Precedence": "bulk"},
    {"Precedence": "junk"},
    {"Precedence": "list"},
    {"Precedence": "auto_reply"},
    {"X-Autoreply": "yes"},
    {"X-Autorespond": "Out of office"},
]


@pytest.fixture
def alice(desk):
    desk.requester.email = "alice@example.com"
    desk.requester.save(update_fields=["email"])
    return desk.requester


@pytest.mark.parametrize(
    "headers", AUTO_HEADERS, ids=lambda h: "-".join(h.items().__iter__().__next__())
)
def test_automatic_mail_opens_no_ticket_and_gets_no_answer(
    headers, alice, mailbox, imap, django_capture_on_commit_callbacks
):
    imap.append("desk", plain(sender=alice.email, subject="Out of office", headers=headers))
    with django_capture_on_commit_callbacks(execute=True):
        result = poll_mailbox(mailbox)
    assert result.outcomes == {Outcome.IGNORED_AUTO: 1}
    assert Ticket.objects.count() == 0
    assert django_mail.outbox == []
    assert Notification.objects.count() == 0
    row = InboundMessage.objects.get()
    assert row.reason.split(":")[0].lower() in {k.lower() for k in headers}
    mailbox.refresh_from_db()
    assert (mailbox.fetched_count, mailbox.ignored_count, mailbox.created_count) == (1, 1, 0)


def test_auto_submitted_no_is_a_person(alice, mailbox):
    row, _taken = message_ingest(mailbox=mailbox, raw=plain(headers={"Auto-Submitted": "no"}))
    assert row.outcome == Outcome.TICKET_CREATED


def test_auto_reply_to_a_ticket_adds_nothing(desk, alice, mailbox):
    ticket = TicketFactory(desk).in_progress()
    row, _ = message_ingest(
        mailbox=mailbox,
        raw=plain(
            subject=f"Automatic reply: [{ticket.number}]",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    assert row.outcome == Outcome.IGNORED_AUTO
    assert not Comment.objects.filter(ticket=ticket).exists()


def _desk_mail(ticket: Ticket) -> bytes:
    domain = settings.SERVICEDESK["MAIL_DOMAIN"]
    return plain(
        sender="help@desk.example",
        subject=f"[{ticket.number}] Your request was received",
        message_id=f"<{ticket.number}.n5@{domain}>",
        headers={
            "In-Reply-To": f"<{ticket.number}@{domain}>",
            "Auto-Submitted": "auto-generated",
            "X-Servicedesk-Origin": domain,
        },
    )


def test_the_desks_own_mail_echoed_back_is_ignored(desk, alice, mailbox):
    ticket = TicketFactory(desk).in_progress()
    row, _ = message_ingest(mailbox=mailbox, raw=_desk_mail(ticket))
    assert row.outcome == Outcome.IGNORED_ECHO
    # Only the origin header, or only our Message-ID format: each alone is enough.
    domain = settings.SERVICEDESK["MAIL_DOMAIN"]
    row2, _ = message_ingest(
        mailbox=mailbox, raw=plain(sender=alice.email, headers={"X-Servicedesk-Origin": domain})
    )
    row3, _ = message_ingest(
        mailbox=mailbox, raw=plain(sender=alice.email, message_id=f"<{ticket.number}@{domain}>")
    )
    assert (row2.outcome, row3.outcome) == (Outcome.IGNORED_ECHO, Outcome.IGNORED_ECHO)
    assert Ticket.objects.count() == 1
    assert not Comment.objects.exists()


def _bounce(ticket: Ticket, failed: str, bounce_id: str = "bounce-1") -> bytes:
    """A DSN as Postfix sends it: multipart/report with text, delivery-status and the
    original message's headers."""
    domain = settings.SERVICEDESK["MAIL_DOMAIN"]
    return raw(
        [
            "From: Mail Delivery System <MAILER-DAEMON@mx.example>",
            "To: help@desk.example",
            "Subject: Undelivered Mail Returned to Sender",
            f"Message-ID: <{bounce_id}@mx.example>",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
        ],
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: help@desk.example\r\nTo: {failed}\r\nSubject: [{ticket.number}] Update\r\n"
        f"Message-ID: <{ticket.number}.n9@{domain}>\r\n\r\n"
        "--B--\r\n",
    )


def test_a_bounce_is_recorded_on_its_ticket_and_the_address_flagged(desk, alice, mailbox):
    ticket = TicketFactory(desk).in_progress()
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    row, _ = message_ingest(mailbox=mailbox, raw=_bounce(ticket, "gone@example.com"))
    assert (row.outcome, row.ticket) == (Outcome.BOUNCE, ticket)
    assert Ticket.objects.count() == 1
    assert not Comment.objects.exists()
    event = TicketEvent.objects.filter(ticket=ticket).order_by("id").last()
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before + 1
    assert (event.is_public, event.data["mail"], event.data["addresses"]) == (
        False,
        "bounce",
        ["gone@example.com"],
    )
    assert address_is_flagged("gone@example.com")
    message_ingest(
        mailbox=mailbox,
        raw=_bounce(ticket, "gone@example.com", "bounce-2"),
    )
    assert FlaggedAddress.objects.get(address="gone@example.com").bounce_count == 2


def test_a_daemon_without_a_report_is_still_a_bounce(desk, alice, mailbox):
    row, _ = message_ingest(
        mailbox=mailbox, raw=plain(sender="postmaster@mx.example", subject="Delivery failure")
    )
    assert (row.outcome, row.ticket) == (Outcome.BOUNCE, None)
    assert Ticket.objects.count() == 0


def test_a_flood_from_one_sender_is_rate_limited(alice, mailbox):
    configure(mailbox, new_tickets_per_hour=3)
    outcomes = [
        message_ingest(mailbox=mailbox, raw=plain(subject=f"flood {n}"))[0].outcome
        for n in range(5)
    ]
    assert outcomes == [Outcome.TICKET_CREATED] * 3 + [Outcome.RATE_LIMITED] * 2
    assert Ticket.objects.count() == 3
    # Another sender is not affected.
    row, _ = message_ingest(mailbox=mailbox, raw=plain(sender="bob@example.com"))
    assert row.outcome == Outcome.TICKET_CREATED
