"""Size limits, the outgoing addresses of a mailbox, and header hygiene."""

from __future__ import annotations

from mailin.choices import Outcome
from mailin.imap import poll_mailbox
from mailin.models import InboundMessage
from mailin.selectors import outbound_addresses
from mailin.services import message_ingest
from tests.mailin.conftest import configure
from tests.mailin.messages import PDF, plain


def test_a_message_over_the_size_limit_is_quarantined_from_its_header_only(
    desk, mailbox, imap, settings
):
    settings.MAILIN = {**settings.MAILIN, "MESSAGE_MAX_BYTES": 2000}
    big = plain(
        sender=desk.requester.email,
        subject="huge",
        message_id="<huge-1@sender.example>",
        attachments=[("big.pdf", "application/pdf", PDF + b"0" * 5000)],
    )
    imap.append("desk", big)
    result = poll_mailbox(mailbox)
    assert result.outcomes == {Outcome.QUARANTINED: 1}
    row = InboundMessage.objects.get()
    assert (
        row.reason.startswith(f"message too large: {len(big)}") or "message too large" in row.reason
    )
    assert (row.message_id, row.from_address, row.raw_truncated) == (
        "huge-1@sender.example",
        desk.requester.email,
        True,
    )
    assert b"big.pdf" not in bytes(row.raw)  # only the header was fetched
    assert imap.count("desk", "UNSEEN") == 0


def test_the_stored_source_is_size_limited(desk, mailbox, settings):
    settings.MAILIN = {**settings.MAILIN, "RAW_MAX_BYTES": 300}
    raw = plain(sender=desk.requester.email, body="x" * 2000)
    row, _ = message_ingest(mailbox=mailbox, raw=raw)
    assert row.outcome == Outcome.TICKET_CREATED
    assert (len(bytes(row.raw)), row.raw_size, row.raw_truncated) == (300, len(raw), True)


def test_outgoing_from_and_reply_to_per_mailbox(desk, mailbox):
    row, _ = message_ingest(mailbox=mailbox, raw=plain(sender=desk.requester.email))
    assert outbound_addresses(row.ticket) == ("help@desk.example", "help@desk.example")
    configure(
        mailbox,
        from_name="IT 服务台\r\nBcc: evil@example.com",
        from_address="noreply@desk.example",
        reply_to="help+replies@desk.example",
    )
    sender, reply_to = outbound_addresses(row.ticket)
    assert "\r" not in sender and "\n" not in sender
    assert sender.endswith("<noreply@desk.example>")
    assert reply_to == "help+replies@desk.example"


def test_crlf_in_display_name_never_reaches_a_stored_name(desk, mailbox):
    raw = (
        b"From: =?utf-8?B?RXZpbA0KQmNjOiB4QHkuY29t?= <evil@outside.example>\r\n"
        b"Subject: hi\r\nMessage-ID: <crlf-name@x>\r\n\r\nbody"
    )
    row, _ = message_ingest(mailbox=mailbox, raw=raw)
    user = row.ticket.requester
    assert user.display_name == "Evil Bcc: x@y.com"
