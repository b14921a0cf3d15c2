"""The workspace's e-mail page, the source download, the API: who may see and do what."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from mailin.choices import Outcome
from mailin.models import InboundMessage
from mailin.services import message_ingest
from tests.factories import TicketFactory
from tests.mailin.conftest import configure
from tests.mailin.messages import plain


@pytest.fixture
def quarantined(desk, mailbox):
    configure(mailbox, foreign_reply="quarantine")
    ticket = TicketFactory(desk).in_progress()
    row, _ = message_ingest(
        mailbox=mailbox,
        raw=plain(sender=desk.other_requester.email, subject=f"[{ticket.number}] me too"),
    )
    return row


def test_channel_page_for_administrators_only(desk, mailbox, quarantined, client):
    client.force_login(desk.admin)
    page = client.get("/mail/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Service desk" in text and "help@desk.example" in text
    assert "may not reply" in text
    assert 'href="/mail/"' in text  # the workspace menu entry
    client.force_login(desk.tier1)
    assert client.get("/mail/").status_code == 403
    assert 'href="/mail/"' not in client.get("/workspace/").content.decode()


def test_channel_page_retry_and_discard(desk, mailbox, quarantined, client):
    client.force_login(desk.admin)
    response = client.post("/mail/", {"message": quarantined.pk, "action": "discard"})
    assert response.status_code == 302
    assert InboundMessage.objects.get(pk=quarantined.pk).outcome == Outcome.DISCARDED
    page = client.post("/mail/", {"message": quarantined.pk, "action": "retry"}, follow=True)
    assert "not in quarantine" in page.content.decode()
    assert client.post("/mail/", {"message": 999999, "action": "retry"}).status_code == 404
    bad = client.post("/mail/", {"message": "x", "action": "explode"}, follow=True)
    assert bad.status_code == 200 and "Choose a message" in bad.content.decode()


def test_source_download_only_for_agents_on_the_ticket(desk, mailbox, client):
    row, _ = message_ingest(mailbox=mailbox, raw=plain(sender=desk.requester.email))
    ticket = row.ticket
    from tickets.services import ticket_route, ticket_take

    ticket_route(ticket_id=ticket.pk, actor=None, tier=desk.front.tier, team=desk.front)
    ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    client.force_login(desk.tier1)
    response = client.get(f"/mail/source/{row.pk}.eml")
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response.content == bytes(row.raw)
    page = client.get(f"/workspace/tickets/{ticket.number}/")
    assert page.status_code == 200
    assert f"/mail/source/{row.pk}.eml" in page.content.decode()
    for person in (desk.requester, desk.outsider_agent, desk.other_requester):
        client.force_login(person)
        assert client.get(f"/mail/source/{row.pk}.eml").status_code == 404


def test_api_mailboxes_and_quarantine(desk, mailbox, quarantined):
    api = APIClient()
    api.force_authenticate(desk.admin)
    boxes = api.get("/api/mail/mailboxes/").json()
    assert [(b["name"], b["quarantined_count"], b["state"]) for b in boxes] == [
        ("Service desk", 1, "never")
    ]
    assert "password_env" not in boxes[0]
    listed = api.get("/api/mail/quarantine/").json()
    assert [r["id"] for r in listed["results"]] == [quarantined.pk]
    configure(mailbox, foreign_reply="new_ticket")
    retried = api.post(f"/api/mail/quarantine/{quarantined.pk}/retry/").json()
    assert retried["outcome"] == Outcome.TICKET_CREATED and retried["ticket_number"]
    again = api.post(f"/api/mail/quarantine/{quarantined.pk}/discard/")
    assert again.status_code == 400
    assert again.json()["outcome"] == ["This message is not in quarantine."]
    assert api.post("/api/mail/quarantine/0/retry/").status_code == 404
    api.force_authenticate(desk.tier1)
    assert api.get("/api/mail/mailboxes/").status_code == 403
    assert api.post(f"/api/mail/quarantine/{quarantined.pk}/retry/").status_code == 403


def test_channel_page_in_chinese(desk, mailbox, client):
    client.force_login(desk.admin)
    page = client.get("/mail/", headers={"accept-language": "zh-hans"})
    text = page.content.decode()
    assert "邮件渠道" in text and "隔离区" in text and "尚未收取" in text
