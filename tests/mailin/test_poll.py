"""New mail through a real Dovecot → tickets and replies; exactly once; back-off and recovery."""

from __future__ import annotations

import pytest
from django.conf import settings

from accounts.models import User
from mailin.choices import MailboxState, Outcome, UnknownSender
from mailin.imap import poll_mailbox
from mailin.models import InboundMessage, Mailbox
from tests.factories import TicketFactory
from tests.mailin.conftest import configure
from tests.mailin.messages import PDF, PNG, plain
from tickets import services
from tickets.choices import Channel, PendingReason, Status
from tickets.models import Attachment, Comment, Ticket


def desk_msgid(ticket: Ticket, notification_id: int | None = None) -> str:
    domain = settings.SERVICEDESK["MAIL_DOMAIN"]
    suffix = f".n{notification_id}" if notification_id else ""
    return f"<{ticket.number}{suffix}@{domain}>"


def test_new_mail_becomes_a_ticket_with_channel_requester_and_attachments(desk, mailbox, imap):
    desk.requester.email = "alice@example.com"
    desk.requester.save(update_fields=["email"])
    imap.append(
        "desk",
        plain(
            subject="Printer on floor 3 is broken",
            body="The printer shows error E-22.\n",
            attachments=[("photo.png", "image/png", PNG), ("report.pdf", "application/pdf", PDF)],
        ),
    )
    result = poll_mailbox(mailbox)
    assert (result.fetched, result.taken, result.error) == (1, 1, "")
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.EMAIL
    assert ticket.requester == desk.requester
    assert ticket.title == "Printer on floor 3 is broken"
    assert ticket.description == "The printer shows error E-22."
    assert sorted(a.filename for a in ticket.attachments.all()) == ["photo.png", "report.pdf"]
    row = InboundMessage.objects.get()
    assert (row.outcome, row.ticket, row.mailbox) == (Outcome.TICKET_CREATED, ticket, mailbox)
    assert bytes(row.raw).startswith(b"From: alice@example.com")
    mailbox.refresh_from_db()
    assert (mailbox.fetched_count, mailbox.created_count, mailbox.state) == (1, 1, "ok")
    # Marked read, nothing left to take.
    assert imap.count("desk", "UNSEEN") == 0
    assert poll_mailbox(mailbox).fetched == 0


def test_unknown_sender_becomes_a_requester_or_is_refused(desk, mailbox, imap):
    configure(mailbox, default_unit=desk.unit_b)
    imap.append("desk", plain(sender="Zhang San <zhang@outside.example>"))
    poll_mailbox(mailbox)
    user = User.objects.get(email="zhang@outside.example")
    assert (user.display_name, user.unit, user.has_usable_password()) == (
        "Zhang San",
        desk.unit_b,
        False,
    )
    assert user.has_role("requester")
    assert Ticket.objects.get().requester == user

    configure(mailbox, unknown_sender=UnknownSender.REFUSE)
    imap.append("desk", plain(sender="stranger@outside.example"))
    poll_mailbox(mailbox)
    assert Ticket.objects.count() == 1
    assert not User.objects.filter(email="stranger@outside.example").exists()
    assert InboundMessage.objects.get(from_address="stranger@outside.example").outcome == (
        Outcome.REFUSED
    )


def test_reply_to_a_desk_notification_lands_on_the_ticket_and_resumes_it(desk, mailbox, imap):
    ticket = TicketFactory(desk).in_progress()
    services.ticket_suspend(
        ticket_id=ticket.pk, actor=desk.tier1, reason=PendingReason.REQUESTER, note="Which floor?"
    )
    imap.append(
        "desk",
        plain(
            sender=desk.requester.email,
            subject=f"Re: [{ticket.number}] Which floor?",
            body=(
                "Floor 3, room 301.\n\n"
                "-- Reply above this line / 请在此行上方回复 --\n"
                "Which floor?\n"
            ),
            headers={
                "In-Reply-To": desk_msgid(ticket, 17),
                "References": desk_msgid(ticket),
            },
            attachments=[("screen.png", "image/png", PNG)],
        ),
    )
    poll_mailbox(mailbox)
    assert Ticket.objects.count() == 1
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.author, comment.body, comment.is_internal) == (
        desk.requester,
        "Floor 3, room 301.",
        False,
    )
    assert Attachment.objects.get(ticket=ticket).comment == comment
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert InboundMessage.objects.get().outcome == Outcome.REPLY_ADDED
    mailbox.refresh_from_db()
    assert mailbox.replied_count == 1


def test_reply_by_subject_tag_only_and_by_an_agent(desk, mailbox, imap):
    ticket = TicketFactory(desk).in_progress()
    imap.append(
        "desk",
        plain(
            sender=desk.tier1.email,
            subject=f"RE: [{ticket.number}] VPN down",
            body="Restarted the concentrator.\n\nOn Mon, 1 Dec 2026, Alice wrote:\n> VPN down\n",
        ),
    )
    poll_mailbox(mailbox)
    comment = Comment.objects.get(ticket=ticket)
    assert (comment.author, comment.body) == (desk.tier1, "Restarted the concentrator.")


def test_spoofed_or_foreign_reply_opens_a_new_ticket_or_is_quarantined(desk, mailbox, imap):
    ticket = TicketFactory(desk).in_progress(title="Salary data question")
    imap.append(
        "desk",
        plain(
            sender=desk.other_requester.email,
            subject=f"Re: [{ticket.number}] Salary data question",
            body="Let me in.\n",
            headers={"In-Reply-To": desk_msgid(ticket)},
        ),
    )
    poll_mailbox(mailbox)
    assert not Comment.objects.filter(ticket=ticket).exists()
    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert (new.requester, new.description) == (desk.other_requester, "Let me in.")

    configure(mailbox, foreign_reply="quarantine")
    imap.append(
        "desk",
        plain(sender=desk.outsider_agent.email, subject=f"[{ticket.number}] hi", body="x"),
    )
    poll_mailbox(mailbox)
    row = InboundMessage.objects.get(from_address=desk.outsider_agent.email)
    assert row.outcome == Outcome.QUARANTINED
    assert "may not reply" in row.reason
    assert Ticket.objects.count() == 2
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_the_same_message_delivered_twice_is_one_ticket(desk, mailbox, imap):
    message = plain(sender=desk.requester.email, message_id="<dup-1@sender.example>")
    imap.append("desk", message)
    imap.append("desk", message)
    result = poll_mailbox(mailbox)
    assert (result.fetched, result.taken, result.duplicates) == (2, 1, 1)
    assert Ticket.objects.count() == 1
    assert imap.count("desk", "UNSEEN") == 0


def test_a_crash_between_ticket_and_seen_still_gives_one_ticket(desk, mailbox, imap):
    imap.append("desk", plain(sender=desk.requester.email))

    class Crash(Exception):
        pass

    def crash(uids):
        raise Crash

    with pytest.raises(Crash):
        poll_mailbox(mailbox, on_processed=crash)
    assert Ticket.objects.count() == 1
    assert imap.count("desk", "UNSEEN") == 1  # never marked read
    result = poll_mailbox(mailbox)
    assert (result.fetched, result.taken, result.duplicates) == (1, 0, 1)
    assert Ticket.objects.count() == 1
    assert imap.count("desk", "UNSEEN") == 0


def test_processed_mail_is_moved_when_the_mailbox_says_so(desk, mailbox, imap):
    configure(mailbox, processed_folder="Processed")
    imap.append("desk", plain(sender=desk.requester.email))
    poll_mailbox(mailbox)
    assert imap.count("desk") == 0
    assert imap.count("desk", "SEEN", folder="Processed") == 1


def test_server_down_backs_off_shows_failing_and_recovers(desk, mailbox, imap, caplog):
    imap.append("desk", plain(sender=desk.requester.email))
    imap.stop()
    try:
        first = poll_mailbox(mailbox)
        assert first.error.startswith("ConnectionRefusedError")
        mailbox.refresh_from_db()
        assert (mailbox.state, mailbox.consecutive_failures, mailbox.error_count) == (
            MailboxState.FAILING,
            1,
            1,
        )
        delay1 = (mailbox.next_poll_at - mailbox.last_polled_at).total_seconds()
        poll_mailbox(mailbox)
        mailbox.refresh_from_db()
        delay2 = (mailbox.next_poll_at - mailbox.last_polled_at).total_seconds()
        assert (delay1, delay2) == (120, 240)
        assert mailbox.consecutive_failures == 2
    finally:
        imap.start()
    configure(mailbox, port=imap.port)
    result = poll_mailbox(mailbox)
    assert (result.error, result.taken) == ("", 1)
    mailbox.refresh_from_db()
    assert (mailbox.state, mailbox.consecutive_failures) == (MailboxState.OK, 0)
    assert Ticket.objects.count() == 1


def test_wrong_password_is_failing_and_never_logged(desk, mailbox, imap, monkeypatch, caplog):
    monkeypatch.setenv(mailbox.password_env, "wrong-Password-991")
    result = poll_mailbox(mailbox)
    assert "AUTHENTICATIONFAILED" in result.error or "Authentication failed" in result.error
    mailbox.refresh_from_db()
    assert mailbox.state == MailboxState.FAILING
    assert "wrong-Password-991" not in mailbox.last_error
    assert "wrong-Password-991" not in caplog.text
    monkeypatch.delenv(mailbox.password_env)
    assert poll_mailbox(mailbox).error == (
        f"environment variable {mailbox.password_env} is not set"
    )


def test_mailbox_admin_never_shows_the_password(desk, mailbox, client):
    client.force_login(desk.admin)
    page = client.get(f"/admin/mailin/mailbox/{mailbox.pk}/change/")
    assert page.status_code == 200
    assert b"imap-Secret-Pw-7731" not in page.content
    assert Mailbox._meta.get_field("password_env")  # only the variable's name is stored


def test_a_disabled_account_gets_no_new_account_by_mail(desk, mailbox):
    from mailin.services import message_ingest

    desk.other_requester.is_active = False
    desk.other_requester.save(update_fields=["is_active"])
    row, _ = message_ingest(mailbox=mailbox, raw=plain(sender=desk.other_requester.email))
    assert (row.outcome, row.ticket) == (Outcome.REFUSED, None)
    assert User.objects.filter(email=desk.other_requester.email).count() == 1


def test_an_address_whose_user_name_is_taken_gets_its_own_account(desk, mailbox):
    from mailin.services import message_ingest

    User.objects.create(username="carol@outside.example", email="someone.else@example.com")
    row, _ = message_ingest(mailbox=mailbox, raw=plain(sender="carol@outside.example"))
    requester = row.ticket.requester
    assert requester.email == "carol@outside.example"
    assert requester.username.startswith("carol-")


def test_html_only_reply_with_a_refused_attachment_lists_it_on_the_reply(desk, mailbox, settings):
    from mailin.services import message_ingest

    settings.ATTACHMENT_MAX_BYTES = 1000
    ticket = TicketFactory(desk).in_progress()
    raw = plain(
        sender=desk.requester.email,
        subject=f"Re: [{ticket.number}] VPN down",
        body="placeholder",
        attachments=[("big.pdf", "application/pdf", PDF + b"0" * 3000)],
    )
    raw = raw.replace(
        b'Content-Type: text/plain; charset="utf-8"\n'
        b"Content-Transfer-Encoding: 7bit\n\nplaceholder",
        b"Content-Type: text/html\n\n<div>It works <b>again</b>.</div>"
        b"<blockquote><div>On Mon, Desk wrote:</div></blockquote>",
    )
    row, _ = message_ingest(mailbox=mailbox, raw=raw)
    assert row.outcome == Outcome.REPLY_ADDED
    comment = Comment.objects.get(ticket=ticket)
    assert comment.body.startswith("It works again.")
    assert "big.pdf" in comment.body and "too large" in comment.body
    assert [item["name"] for item in row.attachments_not_kept] == ["big.pdf"]
    assert not Attachment.objects.filter(ticket=ticket).exists()
