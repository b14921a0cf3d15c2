"""Delivery in batches: the e-mails read as a render per row would make them, a batch costs a
few queries whatever its size, and a mail server that cannot be reached fails a slice at once."""

from __future__ import annotations

import socket

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import override

from notifications import delivery
from notifications.choices import Channel, DeliveryStatus
from notifications.kinds import KINDS
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _row(desk, n: int, *, kind: str = "", params=None, recipient=None, **fields) -> Notification:
    recipient = recipient if recipient is not None else desk.tier1
    return Notification.objects.create(
        recipient=recipient or None,
        channel=Channel.EMAIL,
        target=f"person{n}@example.com",
        kind=kind,
        params=params or {},
        dedupe_key=f"test-delivery:{n}",
        **fields,
    )


def _rendered_per_row(row: Notification, language: str) -> tuple[str, str, str]:
    """What the templates give for one row rendered on its own (the reference)."""
    subject, text, link = delivery.content(row, language)
    spec = KINDS.get(row.kind)
    context = {
        "subject": subject,
        "text": text,
        "link": link,
        "kind": row.kind,
        "number": row.params.get("number", ""),
        "for_requester": bool(spec and spec.for_requester),
        "recipient": row.recipient,
        "reply_marker": delivery.REPLY_MARKER,
    }
    with override(language):
        return (
            subject,
            render_to_string("notifications/email/message.txt", context),
            render_to_string("notifications/email/message.html", context),
        )


def test_the_shared_layout_gives_what_a_render_per_row_gives(desk):
    """The renderer lays each shape of e-mail out once and fills in each mail's words: the
    result must be exactly what rendering the templates for that row gives, escaping and
    line breaks included, in every language."""
    desk.tier1.display_name = 'Ann <"A&B"> Lee'
    desk.tier1.save(update_fields=["display_name"])
    tricky = "First line <b>bold</b> & more\nsecond line\n\nthird, 'quoted'"
    rows = [
        _row(desk, 1, kind="ticket.desk_replied", recipient=desk.requester,
             params={"number": "SD-1", "title": "Mail <down>", "author": "Bo", "text": tricky}),
        _row(desk, 2, kind="ticket.please_confirm", recipient=desk.requester,
             params={"number": "SD-2", "title": "Printer", "resolution": tricky}),
        _row(desk, 3, kind="ticket.assigned_to_you", params={"number": "SD-3", "title": "VPN"}),
        _row(desk, 4, subject="[SD-4] escalated", body=tricky, url="https://desk/t/SD-4"),
        _row(desk, 5, subject="no link, no ticket", body="plain"),
        _row(desk, 6, kind="ticket.assigned_to_you", params={"number": "SD-6", "title": "x"},
             recipient=False),
    ]  # fmt: skip
    renderer = delivery._Renderer()
    for language in ("en", "zh-hans"):
        for row in rows:
            row.refresh_from_db()
            assert renderer.texts(row, language) == _rendered_per_row(row, language), row.pk


def _pending_emails(desk, count: int) -> list[int]:
    return [
        _row(
            desk,
            n,
            kind="ticket.assigned_to_you",
            params={"number": f"SD-{n % 7}", "title": "Same words"},
        ).pk
        for n in range(count)
    ]


def test_a_batch_of_a_hundred_costs_four_queries_a_slice(desk, django_assert_max_num_queries):
    """The query-count pin of a delivery batch: per slice of `DELIVERY_SLICE` rows a
    savepoint, the locking read (with recipient and ticket), one UPDATE, its release; not
    per row."""
    ids = _pending_emails(desk, 100)
    slices = -(-len(ids) // delivery.DELIVERY_SLICE)
    with django_assert_max_num_queries(4 * slices):
        assert delivery.notifications_deliver(notification_ids=ids) == []
    assert len(mail.outbox) == 100
    rows = Notification.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", "attempts", "last_error")) == {
        (DeliveryStatus.SENT, 1, "")
    }
    assert rows.filter(sent_at__isnull=True).count() == 0
    # Each mail keeps its own thread headers and reader.
    assert {m.extra_headers["Message-ID"] for m in mail.outbox} == {
        f"<SD-{n % 7}.n{pk}@{delivery.mail_domain()}>" for n, pk in enumerate(sorted(ids))
    }
    # Run again (a redelivered task): nothing is sent twice.
    assert delivery.notifications_deliver(notification_ids=ids) == []
    assert len(mail.outbox) == 100


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_mail_server_fails_the_slice_at_once(desk):
    """The SMTP connection cannot be opened: the first e-mail records the error and the
    slice's others the same failed attempt (each would wait out the same timeout); all wait
    for their retry, nothing is lost."""
    ids = _pending_emails(desk, 5)
    with override_settings(
        EMAIL_BACKEND="notifications.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=_closed_port(),
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
    ):
        retrying = delivery.notifications_deliver(notification_ids=ids)
    assert sorted(retrying) == sorted(ids)
    rows = list(Notification.objects.filter(pk__in=ids))
    assert {(r.status, r.attempts) for r in rows} == {(DeliveryStatus.PENDING, 1)}
    assert len({r.last_error for r in rows}) == 1 and rows[0].last_error
    assert all(r.next_attempt_at > timezone.now() for r in rows)
