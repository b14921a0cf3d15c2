"""The beat job: due mailboxes are polled once, a failing one waits out its back-off; running
the scan twice sends nothing more; the poll task run twice takes nothing twice."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from mailin import tasks
from mailin.models import Mailbox
from tests.mailin.messages import plain
from tickets.models import Ticket


def test_scan_claims_due_mailboxes_once(desk, mailbox):
    failing = Mailbox.objects.create(
        name="Failing",
        host="127.0.0.1",
        port=1,
        username="x",
        password_env="NOPE",
        address="b@desk.example",
        next_poll_at=timezone.now() + timedelta(minutes=8),
    )
    Mailbox.objects.create(
        name="Off",
        host="h",
        username="x",
        password_env="NOPE",
        address="c@x.example",
        is_active=False,
    )
    sent_first = tasks.poll_mailboxes.apply().get()
    sent_second = tasks.poll_mailboxes.apply().get()
    assert (sent_first, sent_second) == ([mailbox.pk], [])
    mailbox.refresh_from_db()
    assert mailbox.next_poll_at > timezone.now()
    assert failing.pk not in sent_first


def test_poll_task_run_twice_takes_each_message_once(desk, mailbox, imap):
    imap.append("desk", plain(sender=desk.requester.email))
    first = tasks.poll_mailbox.apply(args=[mailbox.pk]).get()
    second = tasks.poll_mailbox.apply(args=[mailbox.pk]).get()
    assert (first, second) == (
        {"fetched": 1, "taken": 1, "error": ""},
        {"fetched": 0, "taken": 0, "error": ""},
    )
    assert Ticket.objects.count() == 1


def test_mail_poll_command_checks_and_polls(desk, mailbox, imap, monkeypatch):
    from io import StringIO

    import pytest
    from django.core.management import CommandError, call_command

    imap.append("desk", plain(sender=desk.requester.email))
    out = StringIO()
    call_command("mail_poll", "--check", stdout=out)
    assert out.getvalue() == "Service desk: OK, 1 unread\n"
    out = StringIO()
    call_command("mail_poll", "Service desk", stdout=out)
    assert out.getvalue() == ("Service desk: fetched 1, taken 1, duplicates 0 (ticket_created 1)\n")
    monkeypatch.setenv(mailbox.password_env, "wrong-Pw-Value-1")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("mail_poll", "--check", stdout=out)
    assert out.getvalue().startswith("Service desk: FAILED ")
    assert "wrong-Pw-Value-1" not in out.getvalue()
    with pytest.raises(CommandError, match="no such mailbox: nope"):
        call_command("mail_poll", "nope")
