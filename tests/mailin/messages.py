"""Hand-built messages for the mail tests (the standard library's email package, or bytes)."""

from __future__ import annotations

import base64
import itertools
from email.message import EmailMessage

_counter = itertools.count(1)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def msgid() -> str:
    return f"<m{next(_counter)}.{id(_counter)}@sender.example>"


def plain(
    *,
    sender: str = "alice@example.com",
    subject: str = "Printer on floor 3 is broken",
    body: str = "The printer shows error E-22.\n",
    to: str = "help@desk.example",
    headers: dict[str, str] | None = None,
    message_id: str | None = "auto",
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = msgid() if message_id == "auto" else message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, ctype, content in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def raw(headers: list[str], body: bytes | str = b"") -> bytes:
    """A message from literal header lines and body bytes: for what the email package would
    refuse or repair when building."""
    if isinstance(body, str):
        body = body.encode()
    head = "\r\n".join(headers).encode("utf-8", "surrogateescape")
    return head + b"\r\n\r\n" + body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def encoded_word(text: str, charset: str, encoding: str = "B") -> str:
    data = text.encode(charset)
    if encoding == "B":
        return f"=?{charset}?B?{b64(data)}?="
    quoted = "".join(
        chr(b) if (48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122) else f"={b:02X}" for b in data
    )
    return f"=?{charset}?Q?{quoted}?="
