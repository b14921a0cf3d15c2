"""The hostile/odd message corpus: each case's exact outcome, and the whole corpus through
the real IMAP server in one poll that never stops."""

from __future__ import annotations

import pytest

from mailin.choices import Outcome
from mailin.imap import poll_mailbox
from mailin.models import InboundMessage
from mailin.services import message_ingest
from tests.mailin.corpus import CASES


@pytest.fixture(autouse=True)
def small_attachment_limit(settings):
    settings.ATTACHMENT_MAX_BYTES = 4096


@pytest.fixture
def alice(desk):
    desk.requester.email = "alice@example.com"
    desk.requester.save(update_fields=["email"])
    return desk.requester


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_case(name, alice, mailbox):
    raw, check = CASES[name]
    row, taken = message_ingest(mailbox=mailbox, raw=raw)
    assert taken
    row.refresh_from_db()
    check(row)


def test_the_whole_corpus_through_imap_in_one_poll(alice, mailbox, imap):
    imap.append_many("desk", [raw for raw, _check in CASES.values() if raw])
    result = poll_mailbox(mailbox)
    expected = len([raw for raw, _check in CASES.values() if raw])
    assert (result.error, result.fetched) == ("", expected)
    assert imap.count("desk", "UNSEEN") == 0
    assert InboundMessage.objects.count() == expected
    assert InboundMessage.objects.filter(outcome=Outcome.QUARANTINED).count() == 2
