"""A corpus of hostile and odd messages, each with what the desk must make of it.

Every case is built here by hand (literal header lines and bytes where the email package
would repair what real mailers get wrong). `CASES` maps a name to (raw bytes, check); a check
gets the InboundMessage row and asserts the exact outcome.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from email.message import EmailMessage

from mailin.choices import Outcome
from mailin.models import InboundMessage
from tests.mailin.messages import PDF, PNG, b64, encoded_word, raw
from tickets.choices import Impact, Priority, Urgency

SENDER = "alice@example.com"
BASE = [f"From: Alice <{SENDER}>", "To: help@desk.example", "Date: Mon, 1 Dec 2026 10:00:00 +0800"]


def head(mid: str, subject: str | None = None, *extra: str) -> list[str]:
    lines = [*BASE, f"Message-ID: <{mid}@corpus.example>"]
    if subject is not None:
        lines.append(f"Subject: {subject}")
    return [*lines, *extra]


def tnef(body: bytes, files: list[tuple[bytes, bytes]]) -> bytes:
    """A TNEF (winmail.dat) stream: signature, key, then level/name/type/length/data/checksum."""

    def obj(level: int, name: int, kind: int, data: bytes) -> bytes:
        return (
            struct.pack("<BHHI", level, name, kind, len(data))
            + data
            + struct.pack("<H", sum(data) & 0xFFFF)
        )

    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += obj(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))
    out += obj(1, 0x800C, 0x0002, body)
    for name, content in files:
        out += obj(2, 0x9002, 0x0006, b"\x00" * 14)
        out += obj(2, 0x8010, 0x0001, name + b"\x00")
        out += obj(2, 0x800F, 0x0006, content)
    return out


def multipart(mid: str, subject: str, parts: list[str], boundary: str = "b1", kind="mixed"):
    body = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
    return raw(
        [
            *head(mid, subject),
            "MIME-Version: 1.0",
            f'Content-Type: multipart/{kind}; boundary="{boundary}"',
        ],
        body,
    )


def part(ctype: str, body: str, *extra: str, encoding: str | None = None) -> str:
    lines = [f"Content-Type: {ctype}", *extra]
    if encoding:
        lines.append(f"Content-Transfer-Encoding: {encoding}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def attachment(name_header: str, ctype: str, data: bytes) -> str:
    return part(
        ctype, b64(data), f"Content-Disposition: attachment; {name_header}", encoding="base64"
    )


NETWORK = "网络".encode()
SPLIT_WORDS = f"=?UTF-8?B?{b64(NETWORK[:4])}?= =?UTF-8?B?{b64(NETWORK[4:])}?="

Check = Callable[[InboundMessage], None]


def created(
    title: str | None = None,
    description: str | None = None,
    files: list[str] | None = None,
    not_kept: list[str] | None = None,
    contains: str | None = None,
) -> Check:
    def check(row: InboundMessage) -> None:
        assert row.outcome == Outcome.TICKET_CREATED, (row.outcome, row.reason)
        ticket = row.ticket
        if title is not None:
            assert ticket.title == title, ticket.title
        if description is not None:
            assert ticket.description == description, ticket.description
        if contains is not None:
            assert contains in ticket.description, ticket.description
        if files is not None:
            assert sorted(a.filename for a in ticket.attachments.all()) == sorted(files)
        if not_kept is not None:
            assert [item["name"] for item in row.attachments_not_kept] == not_kept
            for item in row.attachments_not_kept:
                assert item["reason"]
                assert item["name"] in ticket.description
        assert "\r" not in ticket.title and "\n" not in ticket.title

    return check


def quarantined(reason: str) -> Check:
    def check(row: InboundMessage) -> None:
        assert row.outcome == Outcome.QUARANTINED
        assert reason in row.reason, row.reason
        assert row.ticket is None

    return check


def _forwarded() -> str:
    inner = EmailMessage()
    inner["From"] = "x@y.example"
    inner["Subject"] = "inner"
    inner.set_content("inner text")
    return part(
        "message/rfc822", inner.as_string(), 'Content-Disposition: attachment; filename="fwd.eml"'
    )


def _nested(depth: int) -> bytes:
    parts = []
    for level in range(depth):
        parts.append(
            f'--n{level}\r\nContent-Type: multipart/mixed; boundary="n{level + 1}"\r\n\r\n'
        )
    text = "".join(parts) + f"--n{depth}\r\nContent-Type: text/plain\r\n\r\ndeep text\r\n"
    text += "".join(f"--n{level}--\r\n" for level in range(depth, -1, -1))
    return raw(
        [
            *head("deep", "Deep"),
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="n0"',
        ],
        text,
    )


CASES: dict[str, tuple[bytes, Check]] = {
    "gb2312_subject": (
        raw(head("c1", encoded_word("打印机坏了", "gb2312")), "x"),
        created(title="打印机坏了"),
    ),
    "gbk_text_labelled_gb2312": (
        raw(head("c2", encoded_word("朱镕基同志的电脑", "gbk").replace("gbk", "gb2312")), "x"),
        created(title="朱镕基同志的电脑"),
    ),
    "gb18030_four_byte": (
        raw(head("c3", encoded_word("𠮷野家系统", "gb18030", "Q")), "x"),
        created(title="𠮷野家系统"),
    ),
    "big5_subject": (
        raw(head("c4", encoded_word("印表機故障", "big5")), "x"),
        created(title="印表機故障"),
    ),
    "utf8_split_across_words": (
        raw(head("c5", "=?UTF-8?B?5omT5Y2w?= =?UTF-8?B?5py6?="), "x"),
        created(title="打印机"),
    ),
    "utf8_char_split_mid_byte": (
        raw(head("c6", SPLIT_WORDS), "x"),
        created(title="网络"),
    ),
    "body_without_charset_utf8": (
        raw([*head("c7", "no charset"), "Content-Type: text/plain"], "服务器宕机了".encode()),
        created(description="服务器宕机了"),
    ),
    "body_labelled_utf8_is_gbk": (
        raw(
            [*head("c8", "wrong label"), "Content-Type: text/plain; charset=utf-8"],
            "数据库连接失败".encode("gbk"),
        ),
        created(description="数据库连接失败"),
    ),
    "unknown_charset_label": (
        raw(
            [
                *head("c9", "=?x-no-such?B?" + b64("内网".encode()) + "?="),
                "Content-Type: text/plain; charset=x-no-such-charset",
            ],
            "内网不通".encode(),
        ),
        created(title="内网", description="内网不通"),
    ),
    "eight_bit_utf8_subject": (
        raw(head("c10", "邮件系统无法登录".encode().decode("utf-8")), "x"),
        created(title="邮件系统无法登录"),
    ),
    "eight_bit_gbk_subject": (
        head("c11", None)
        and (
            b"\r\n".join(h.encode() for h in head("c11"))
            + b"\r\nSubject: "
            + "报表导出失败".encode("gbk")
            + b"\r\n\r\nx"
        ),
        created(title="报表导出失败"),
    ),
    "big5_display_name": (
        raw(
            [
                f"From: {encoded_word('陳大文', 'big5')} <chan@outside.example>",
                "To: help@desk.example",
                "Message-ID: <c12@corpus.example>",
                "Subject: hi",
            ],
            "x",
        ),
        lambda row: (
            created(title="hi")(row),
            _assert(row.ticket.requester.display_name == "陳大文"),
        ),
    ),
    "nested_alternative_related": (
        multipart(
            "c13",
            "Nested",
            [
                'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
                "--alt\r\n" + part("text/plain; charset=utf-8", "Plain version") + "\r\n"
                '--alt\r\nContent-Type: multipart/related; boundary="rel"\r\n\r\n'
                "--rel\r\n" + part("text/html", "<p>HTML <img src='cid:img1'></p>") + "\r\n"
                "--rel\r\n"
                + part(
                    "image/png",
                    b64(PNG),
                    "Content-ID: <img1>",
                    'Content-Disposition: inline; filename="logo.png"',
                    encoding="base64",
                )
                + "\r\n--rel--\r\n--alt--",
                attachment('filename="log.txt"', "text/plain", b"line 1\nline 2\n"),
            ],
        ),
        created(description="Plain version", files=["log.txt", "logo.png"]),
    ),
    "html_only_with_script": (
        raw(
            [*head("c14", "HTML only"), "Content-Type: text/html; charset=utf-8"],
            "<html><head><style>p{}</style><script>alert('x')</script></head>"
            "<body><p>VPN is <b>down</b></p><p>since 9:00</p></body></html>",
        ),
        lambda row: (
            created(description="VPN is down\n\nsince 9:00")(row),
            _assert("<script" not in row.html_sanitised and "alert" not in row.html_sanitised),
            _assert("<b>down</b>" in row.html_sanitised),
        ),
    ),
    "html_event_handlers_and_javascript_links": (
        raw(
            [*head("c15", "links"), "Content-Type: text/html"],
            '<a href="javascript:steal()">click</a><img src=x onerror="steal()">',
        ),
        lambda row: (
            created(description="click")(row),
            _assert(
                "javascript:" not in row.html_sanitised and "onerror" not in row.html_sanitised
            ),
        ),
    ),
    "inline_image_only": (
        multipart(
            "c16",
            "Screenshot",
            [
                part(
                    "image/png",
                    b64(PNG),
                    "Content-ID: <shot>",
                    "Content-Disposition: inline",
                    encoding="base64",
                ),
            ],
            kind="related",
        ),
        created(files=["attachment.png"]),
    ),
    "attachment_over_the_limit": (
        multipart(
            "c17",
            "Big file",
            [
                part("text/plain", "see file"),
                attachment('filename="big.pdf"', "application/pdf", PDF + b"0" * 5000),
            ],
        ),
        created(files=[], not_kept=["big.pdf"]),
    ),
    "attachment_type_not_allowed": (
        multipart(
            "c18",
            "exe",
            [
                part("text/plain", "run this"),
                attachment('filename="setup.exe"', "application/octet-stream", b"MZ\x90\x00"),
            ],
        ),
        created(files=[], not_kept=["setup.exe"]),
    ),
    "executable_renamed_pdf": (
        multipart(
            "c19",
            "pdf",
            [
                part("text/plain", "invoice"),
                attachment('filename="invoice.pdf"', "application/pdf", b"MZ\x90\x00rest"),
            ],
        ),
        created(files=[], not_kept=["invoice.pdf"]),
    ),
    "zero_byte_attachment": (
        multipart(
            "c20",
            "empty file",
            [part("text/plain", "attached"), attachment('filename="empty.txt"', "text/plain", b"")],
        ),
        created(files=[], not_kept=["empty.txt"]),
    ),
    "zero_byte_message": (b"", quarantined("empty message")),
    "attachment_only_no_subject": (
        raw(
            [
                *BASE,
                "Message-ID: <c22@corpus.example>",
                "MIME-Version: 1.0",
                "Content-Type: application/pdf; name=scan.pdf",
                "Content-Disposition: attachment; filename=scan.pdf",
                "Content-Transfer-Encoding: base64",
            ],
            b64(PDF),
        ),
        created(title="(no subject)", description="", files=["scan.pdf"]),
    ),
    "tnef_winmail_dat": (
        multipart(
            "c23",
            "Outlook",
            [
                part(
                    "application/ms-tnef",
                    b64(tnef(b"Body from Outlook", [(b"notes.txt", b"n1\n")])),
                    'Content-Disposition: attachment; filename="winmail.dat"',
                    encoding="base64",
                ),
            ],
        ),
        created(description="Body from Outlook", files=["notes.txt"]),
    ),
    "tnef_broken": (
        multipart(
            "c24",
            "Outlook broken",
            [
                part("text/plain", "see attached"),
                part(
                    "application/ms-tnef",
                    b64(b"not tnef at all"),
                    'Content-Disposition: attachment; filename="winmail.dat"',
                    encoding="base64",
                ),
            ],
        ),
        created(files=[], not_kept=["winmail.dat"]),
    ),
    "rfc2231_chinese_filename": (
        multipart(
            "c25",
            "rfc2231",
            [
                part("text/plain", "x"),
                attachment("filename*=UTF-8''%E6%97%A5%E5%BF%97.txt", "text/plain", b"log\n"),
            ],
        ),
        created(files=["日志.txt"]),
    ),
    "rfc2047_gbk_filename": (
        multipart(
            "c26",
            "rfc2047 name",
            [
                part("text/plain", "x"),
                attachment(f'filename="{encoded_word("报表.csv", "gbk")}"', "text/csv", b"a,b\n"),
            ],
        ),
        created(files=["报表.csv"]),
    ),
    "no_message_id": (
        raw([*BASE, "Subject: no id"], "x"),
        lambda row: (created(title="no id")(row), _assert(row.message_key.startswith("r:"))),
    ),
    "no_from": (
        raw(["To: help@desk.example", "Message-ID: <c28@corpus.example>", "Subject: anon"], "x"),
        quarantined("no usable sender"),
    ),
    "binary_garbage": (bytes(range(256)) * 8, quarantined("no usable sender")),
    "broken_base64_body": (
        raw(
            [
                *head("c30", "b64"),
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: base64",
            ],
            "5pyN5Yqh5Zmo!!!@@@###",
        ),
        created(title="b64"),
    ),
    "crlf_injection_in_subject": (
        raw(head("c31", "=?UTF-8?B?" + b64(b"Hello\r\nBcc: victim@example.com") + "?=")),
        created(title="Hello Bcc: victim@example.com"),
    ),
    "x_priority_and_ticket_id_ignored": (
        raw(
            head(
                "c32",
                "urgent!!",
                "X-Priority: 1 (Highest)",
                "Importance: High",
                "X-Servicedesk-Ticket-Id: 1",
                "X-Servicedesk-Priority: P1",
            ),
            "x",
        ),
        lambda row: (
            created(title="urgent!!")(row),
            # The defaults of any request without impact or urgency, as on the portal.
            _assert((row.ticket.impact, row.ticket.urgency) == (Impact.MINOR, Urgency.MEDIUM)),
            _assert(row.ticket.priority == Priority.P3),
        ),
    ),
    "very_long_subject": (
        raw(head("c33", "A" * 10_000), "x"),
        created(title="A" * 200),
    ),
    "deeply_nested_multipart": (_nested(120), created(title="Deep", description="deep text")),
    "nul_bytes_in_body": (
        raw([*head("c35", "nul"), "Content-Type: text/plain"], b"a\x00b\x00c"),
        created(description="abc"),
    ),
    "forwarded_message_attachment": (
        multipart("c36", "fwd", [part("text/plain", "see forward"), _forwarded()]),
        created(files=[], not_kept=["fwd.eml"]),
    ),
    "control_only_subject": (
        raw(head("c37", "=?UTF-8?B?" + b64(b"\r\n\t\x00") + "?="), "x"),
        created(title="(no subject)"),
    ),
    "multipart_without_boundary": (
        raw(
            [*head("c38", "no boundary"), "MIME-Version: 1.0", "Content-Type: multipart/mixed"],
            "just text",
        ),
        lambda row: _assert(
            row.outcome == Outcome.TICKET_CREATED and row.ticket.title == "no boundary"
        ),
    ),
    "q_encoding_with_underscores": (
        raw(head("c39", "=?utf-8?q?VPN_=E6=96=AD=E5=BC=80?="), "x"),
        created(title="VPN 断开"),
    ),
}


def _assert(condition: bool) -> None:
    assert condition
