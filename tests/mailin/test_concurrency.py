"""Two pollers at once on real PostgreSQL connections and the real IMAP server: every message
still becomes exactly one ticket."""

from __future__ import annotations

import pytest

from accounts.models import User
from mailin.choices import Outcome
from mailin.imap import poll_mailbox
from mailin.models import InboundMessage, Mailbox
from mailin.services import message_ingest
from tests.mailin.conftest import configure
from tests.mailin.messages import plain
from tests.tickets.test_concurrency import run_together
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_message_ingested_at_once_is_one_ticket(desk, mailbox):
    raw = plain(sender=desk.requester.email, message_id="<race-1@sender.example>")
    results = run_together(*(lambda: message_ingest(mailbox=mailbox, raw=raw) for _ in range(4)))
    assert sorted(taken for _row, taken in results) == [False, False, False, True]
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.get().outcome == Outcome.TICKET_CREATED


def test_two_pollers_at_once_take_each_message_once(desk, mailbox, imap):
    configure(mailbox, new_tickets_per_hour=100)
    imap.append_many(
        "desk", [plain(sender=desk.requester.email, subject=f"m{n}") for n in range(30)]
    )
    results = run_together(
        *(lambda: poll_mailbox(Mailbox.objects.get(pk=mailbox.pk)) for _ in range(2))
    )
    assert [r.error for r in results] == ["", ""]
    assert sum(r.taken for r in results) == 30
    assert Ticket.objects.count() == 30
    assert sorted(Ticket.objects.values_list("title", flat=True)) == sorted(
        f"m{n}" for n in range(30)
    )
    assert imap.count("desk", "UNSEEN") == 0
    mailbox.refresh_from_db()
    assert mailbox.created_count == 30


def test_a_poll_with_four_worker_threads_takes_everything_once(desk, mailbox, imap, settings):
    settings.MAILIN = {**settings.MAILIN, "POLL_WORKERS": 4}
    configure(mailbox, new_tickets_per_hour=100)
    senders = [desk.requester.email, "new.person@outside.example"]
    imap.append_many("desk", [plain(sender=senders[n % 2], subject=f"t{n}") for n in range(45)])
    result = poll_mailbox(Mailbox.objects.get(pk=mailbox.pk))
    assert (result.error, result.taken, result.duplicates) == ("", 45, 0)
    assert Ticket.objects.count() == 45
    # The unknown sender became one requester, not one per message or thread.
    assert User.objects.filter(email="new.person@outside.example").count() == 1
    mailbox.refresh_from_db()
    assert (mailbox.fetched_count, mailbox.created_count) == (45, 45)
