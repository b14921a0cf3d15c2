"""A notification's e-mail is written directly (notifications/mime.py): byte for byte what
Django's own MIME tree of the same message gives (the Subject: the same decoded text, folded
and encoded by the standard's rules), in English and Chinese, and what a real SMTP server
receives parses back into the same subject, text, HTML and links."""

from __future__ import annotations

import email
import email.policy
import itertools
import re
import socket

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart

from notifications import delivery
from notifications.choices import Channel, DeliveryStatus
from notifications.mime import NotificationEmail, WrittenMessage
from notifications.models import Notification

SUBJECTS = [
    "[SD-1] Breached",
    "[SD-000123] " + "A long ASCII subject that has to be folded " * 5,
    "[SD-2] " + "x" * 120,  # one word longer than a line
    "[SD-3] 工单已超时：打印机卡纸",
    "[SD-4] 升级：" + "网络中断，" * 30 + "trailing words",
    "[SD-5]  two  spaces\tand a tab ",
]
BODIES = [
    ("Hello Ann,\n\nThe ticket breached.\n", "<p>Hello Ann,</p>\n<p>breached</p>\n"),
    ("您好，\r\n工单 SD-3 已超时。\r\n\r\n-- 请在此行上方回复 --\n", "<p>您好</p>\r\n<p>超时</p>"),
    ("no final line end", "<p>lone\rcarriage return</p>\n"),
    ("x" * 997 + "\n" + "好" * 332 + "\n", "<p>" + "y" * 990 + "</p>\n"),  # at the limit
    ("--===============0000000000000000000==\nlooks like a boundary\n", "<p></p>"),
]
SENDERS = ["servicedesk@localhost", "Service Desk <desk@example.com>", "服务台 <desk@example.com>"]
RECIPIENTS = ["ann@example.com", "a.very.long.local.part.of.an.address." * 2 + "x@example.com"]


def _email(subject, body, html, sender, to, **extra) -> NotificationEmail:
    headers = {
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-Servicedesk-Origin": "desk.example.com",
        "Message-ID": "<SD-3.n42@desk.example.com>",
        "In-Reply-To": "<SD-3@desk.example.com>",
        "References": "<SD-3@desk.example.com>",
        **extra,
    }
    message = NotificationEmail(
        subject=subject, body=body, from_email=sender, to=[to], headers=headers
    )
    message.attach_alternative(html, "text/html")
    return message


def _split_subject(raw: bytes, linesep: str) -> tuple[bytes, str, list[bytes]]:
    """(the message without its Subject header, the decoded Subject, the Subject's lines)."""
    nl = linesep.encode()
    found = re.search(rb"^Subject: .*?" + nl + rb"(?! )", raw, re.MULTILINE | re.DOTALL)
    lines = found.group().split(nl)[:-1]
    parsed = email.message_from_bytes(found.group(), policy=email.policy.default)
    return raw[: found.start()] + raw[found.end() :], str(parsed["Subject"]), lines


@pytest.mark.parametrize("linesep", ["\r\n", "\n"])
def test_the_written_bytes_are_djangos_bytes(linesep):
    """Every combination of subject, bodies, sender and recipient: the written message is
    exactly what Django's MIME tree of it (same boundary, date and Message-ID) flattens to,
    but for the Subject's folding: the same text decoded, every line within 78 characters,
    every encoded word within RFC 2047's 75."""
    cases = itertools.product(SUBJECTS, BODIES, SENDERS, RECIPIENTS)
    for subject, (body, html), sender, to in cases:
        written = _email(subject, body, html, sender, to).message()
        assert isinstance(written, WrittenMessage)
        django_tree = written.tree()
        assert isinstance(django_tree, SafeMIMEMultipart)
        ours, our_subject, our_lines = _split_subject(written.as_bytes(linesep=linesep), linesep)
        theirs, their_subject, _lines = _split_subject(
            django_tree.as_bytes(linesep=linesep), linesep
        )
        assert ours == theirs, (subject, body, sender, to)
        if subject == " ".join(subject.split()):  # as the renderer gives them (one line)
            assert our_subject == subject
        assert their_subject.strip() == our_subject.strip()
        long_words = [line for line in our_lines if len(line) > 78 and b" " in line.strip()]
        assert long_words == [] or subject == SUBJECTS[2]  # only one word longer than a line
        for word in re.findall(rb"=\?utf-8\?b\?[^?]*\?=", b"".join(our_lines)):
            assert len(word) <= 75


def test_a_short_ascii_subject_is_djangos_byte_for_byte():
    written = _email("[SD-2026-961046] escalated (level 1): Resolution SLA breached", *BODIES[0],
                     SENDERS[0], RECIPIENTS[0]).message()  # fmt: skip
    assert written.as_bytes() == written.tree().as_bytes()


def test_without_a_message_id_one_is_made_and_kept():
    message = _email(SUBJECTS[0], *BODIES[0], SENDERS[0], RECIPIENTS[0])
    del message.extra_headers["Message-ID"]
    written = message.message()
    made = written["Message-ID"]
    assert made.startswith("<") and made.endswith(">") and made != "<SD-3.n42@desk.example.com>"
    assert written.as_bytes() == written.tree().as_bytes()
    assert f"Message-ID: {made}".encode() in written.as_bytes()


def test_outside_the_shape_django_writes_it():
    """A line over 998 bytes (Django sends that part quoted-printable), an address header of
    the caller's own, an attachment: Django's own message, unchanged."""
    long_line = _email(SUBJECTS[0], "z" * 999 + "\n", "<p>ok</p>", SENDERS[0], RECIPIENTS[0])
    tree = long_line.message()
    assert isinstance(tree, SafeMIMEMultipart)
    assert b"Content-Transfer-Encoding: quoted-printable" in tree.as_bytes()
    own_to = _email(SUBJECTS[0], *BODIES[0], SENDERS[0], RECIPIENTS[0], To="x@example.com")
    assert isinstance(own_to.message(), SafeMIMEMultipart)
    attached = _email(SUBJECTS[0], *BODIES[0], SENDERS[0], RECIPIENTS[0])
    attached.attach("a.txt", "text", "text/plain")
    assert isinstance(attached.message(), SafeMIMEMultipart)


def test_a_line_break_in_a_header_is_refused_as_django_refuses_it():
    for field in ("In-Reply-To", "References"):
        message = _email(SUBJECTS[0], *BODIES[0], SENDERS[0], RECIPIENTS[0], **{field: "a\nb"})
        with pytest.raises(BadHeaderError):
            message.message()
    message = _email("two\nlines", *BODIES[0], SENDERS[0], RECIPIENTS[0])
    with pytest.raises(BadHeaderError):
        message.message()
    plain = EmailMultiAlternatives(subject="two\nlines", body="b", to=["a@example.com"])
    with pytest.raises(BadHeaderError):
        plain.message()


# --- through a real SMTP server ------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "notifications.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


@pytest.mark.django_db
def test_the_mails_of_a_breach_arrive_as_rendered(desk, smtp_server):
    """A breach's two kinds of mail (the SLA message stored worded, the assignment rendered
    per reader; one reader in Chinese): what the SMTP server receives parses (the standard
    library's default policy) into the rendered subject, plain text, HTML and link."""
    desk.tier1.language = "zh-hans"
    desk.tier1.save(update_fields=["language"])
    title = "打印机卡纸 <urgent> & more"
    rows = [
        Notification.objects.create(
            recipient=person,
            channel=Channel.EMAIL,
            target=person.email,
            kind="ticket.assigned_to_you",
            params={"number": "SD-77", "title": title},
            dedupe_key=f"test-mime:{person.pk}",
        )
        for person in (desk.tier1, desk.tier2)
    ]
    rows.append(
        Notification.objects.create(
            recipient=desk.expert,
            channel=Channel.EMAIL,
            target=desk.expert.email,
            subject=f"[SD-77] 解决时限已超时：{title}",
            body="工单已升级到二线支持。\nEscalated to the second line.",
            url="https://desk.example.com/workspace/tickets/SD-77/",
            dedupe_key="test-mime:sla",
        )
    )
    assert delivery.notifications_deliver(notification_ids=[row.pk for row in rows]) == []
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert len(smtp_server.raw) == 3
    received = {}
    for raw in smtp_server.raw:
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
        message = email.message_from_bytes(raw, policy=email.policy.default)
        received[str(message["To"])] = message
    renderer = delivery._Renderer()
    for row, language in ((rows[0], "zh-hans"), (rows[1], "en"), (rows[2], "en")):
        row.refresh_from_db()
        subject, text, html = renderer.texts(row, language)
        message = received[row.target]
        assert str(message["Subject"]) == subject
        if row.kind:  # threaded by the ticket's number (the worded row names no ticket)
            assert message["Message-ID"] == f"<SD-77.n{row.pk}@{delivery.mail_domain()}>"
            assert message["In-Reply-To"] == f"<SD-77@{delivery.mail_domain()}>"
        else:
            assert message["Message-ID"].endswith(f"@{delivery.mail_domain()}>")
        assert message["Auto-Submitted"] == "auto-generated"
        got_text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        got_html = message.get_body(("html",)).get_content().replace("\r\n", "\n")
        assert got_text == text.replace("\r\n", "\n")
        assert got_html == html.replace("\r\n", "\n")
        assert "SD-77" in got_text and "/workspace/tickets/SD-77/" in got_text
        assert 'href="' in got_html and "/workspace/tickets/SD-77/" in got_html
        assert "打印机卡纸 &lt;urgent&gt; &amp; more" in got_html
    assert str(received[rows[2].target]["Subject"]) == f"[SD-77] 解决时限已超时：{title}"
    assert "打印机卡纸" in str(received[rows[0].target]["Subject"])
    assert mail.outbox == []  # the SMTP backend, not locmem
