"""The quarantine: retry after the cause is fixed, discard; administrators only."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mailin.choices import Outcome, UnknownSender
from mailin.events import DISCARDED, RETRIED
from mailin.models import InboundMessage, MailEvent
from mailin.services import message_ingest, quarantine_discard, quarantine_retry
from tests.mailin.conftest import configure
from tests.mailin.messages import plain
from tickets.models import Ticket


@pytest.fixture
def refused_then_fixable(desk, mailbox):
    """A reply to a ticket from an outsider, quarantined by the mailbox's setting."""
    configure(mailbox, foreign_reply="quarantine")
    from tests.factories import TicketFactory

    ticket = TicketFactory(desk).in_progress()
    row, _ = message_ingest(
        mailbox=mailbox,
        raw=plain(sender=desk.other_requester.email, subject=f"[{ticket.number}] me too"),
    )
    assert row.outcome == Outcome.QUARANTINED
    return row


def test_retry_processes_again_with_the_current_settings(desk, mailbox, refused_then_fixable):
    configure(mailbox, foreign_reply="new_ticket")
    row = quarantine_retry(message_pk=refused_then_fixable.pk, actor=desk.admin)
    assert row.outcome == Outcome.TICKET_CREATED
    assert row.ticket.requester == desk.other_requester
    assert MailEvent.objects.get(message=row).kind == RETRIED
    mailbox.refresh_from_db()
    assert (mailbox.quarantined_count, mailbox.created_count) == (0, 1)
    with pytest.raises(ValidationError):
        quarantine_retry(message_pk=row.pk, actor=desk.admin)


def test_discard_and_permissions(desk, mailbox, refused_then_fixable):
    with pytest.raises(PermissionDenied):
        quarantine_discard(message_pk=refused_then_fixable.pk, actor=desk.tier1)
    row = quarantine_discard(message_pk=refused_then_fixable.pk, actor=desk.admin)
    assert row.outcome == Outcome.DISCARDED
    assert MailEvent.objects.get(message=row).kind == DISCARDED
    # Discarded stays taken: the same message delivered again is not processed again.
    again, taken = message_ingest(mailbox=mailbox, raw=bytes(row.raw))
    assert (again.pk, taken) == (row.pk, False)


def test_unparsable_mail_can_be_retried_and_stays_quarantined(desk, mailbox):
    row, _ = message_ingest(mailbox=mailbox, raw=b"To: help@desk.example\r\n\r\nno sender")
    assert (row.outcome, row.reason) == (Outcome.QUARANTINED, "no usable sender address (From)")
    row = quarantine_retry(message_pk=row.pk, actor=desk.admin)
    assert row.outcome == Outcome.QUARANTINED
    assert Ticket.objects.count() == 0


def test_admin_quarantine_list_and_actions(desk, mailbox, refused_then_fixable, client):
    client.force_login(desk.admin)
    page = client.get("/admin/mailin/quarantinedmessage/")
    assert page.status_code == 200
    assert b"may not reply" in page.content
    configure(mailbox, unknown_sender=UnknownSender.CREATE_REQUESTER, foreign_reply="new_ticket")
    response = client.post(
        "/admin/mailin/quarantinedmessage/",
        {"action": "retry", "_selected_action": [refused_then_fixable.pk]},
    )
    assert response.status_code == 302
    assert InboundMessage.objects.get(pk=refused_then_fixable.pk).outcome == (
        Outcome.TICKET_CREATED
    )
    client.force_login(desk.tier1)
    assert client.get("/admin/mailin/quarantinedmessage/").status_code in (302, 403)
