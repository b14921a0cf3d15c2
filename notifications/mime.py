"""A notification's e-mail written out directly: what Django would send, byte for byte but
for the Subject's folding.

Django builds an e-mail as a tree of `email` MIME objects and flattens it with
`email.generator`: every header stored through the policy and folded by `email.header`, each
part's transfer encoding decided, the body written line by line. For the SLA sweep's volume
(26,000 e-mails for 10,000 breaches, issues #10 and #11) that was half of a delivery's CPU.
A notification always has one shape: its plain text and the HTML alternative, UTF-8, a few
headers. `NotificationEmail.message()` writes that shape itself, as
`EmailMultiAlternatives.message().as_bytes()` does (same header order and folding, `7bit` or
`8bit` parts, the boundary's form; tests compare the two byte for byte in English and Chinese),
formatting only what differs from one message to the next. The Subject alone is encoded by
RFC 2047's rules directly (`_subject`): the same text once decoded. A message outside the shape (a
line over 998 bytes, which Django sends quoted-printable; attachments; an address header of
the caller's own) takes Django's path unchanged.
"""

from __future__ import annotations

import random
import re
import sys
from base64 import b64encode
from email.header import Header
from email.utils import formatdate, make_msgid
from functools import lru_cache

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import (
    DNS_NAME,
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    forbid_multi_line_headers,
)

# What `email.generator` splits a body into lines at, before writing each with the line end.
_NEWLINES = re.compile(r"\r\n|\r|\n")
# A header value `email.header.Header` writes back unchanged when it fits on its line:
# printable ASCII words separated by single spaces.
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*\Z")
_FOLD_AT = 78  # compat32's line length for headers
_TOKEN = f"%0{len(repr(sys.maxsize - 1))}d"  # the generator's boundary digits
# Header names Django sets itself from the message's fields (or lets extra headers replace).
_OWN_NAMES = {"from", "to", "cc", "reply-to", "date"}


@lru_cache(maxsize=2048)
def _stored(name: str, value: str) -> str:
    """The value as Django stores it (a Subject, and any non-ASCII value, RFC 2047-encoded)."""
    return forbid_multi_line_headers(name, value, "utf-8")[1]


@lru_cache(maxsize=2048)
def _folded(name: str, value: str) -> str:
    """compat32's folding of a stored value (lines joined by "\\n")."""
    return Header(value, header_name=name).encode(linesep="\n", maxlinelen=_FOLD_AT)


def _header(name: str, value: str) -> str:
    """One header line as Django writes it (continuation lines joined by "\\n"), the Subject
    as `_subject` does; raises BadHeaderError on a line break in the value, as Django does."""
    if name == "Subject":
        return f"Subject: {_subject(value)}\n"
    if value.isascii():
        if "\n" in value or "\r" in value:
            forbid_multi_line_headers(name, value, "utf-8")  # raises
        # Short enough for one line: Django's encoding (a Subject's too) leaves it as it is.
        if len(name) + 2 + len(value) <= _FOLD_AT and _PLAIN.match(value):
            return f"{name}: {value}\n"
    return f"{name}: {_folded(name, _stored(name, value))}\n"


# UTF-8 bytes per encoded word of a Subject: "=?utf-8?b?" + 56 base64 characters + "?=" is 68
# characters, so "Subject: " and one word fit on a line (RFC 2047 allows 75 per word).
_WORD_BYTES = 42


def _subject(value: str) -> str:
    """The Subject, folded and (when not ASCII) RFC 2047-encoded, by the standard's rules
    rather than `email.header`'s (which cost a tenth of a delivery): encoded words of whole
    UTF-8 characters, lines of at most 78 characters. Decoded, it is the same text as
    Django's; its bytes differ (Django puts a folded Subject on its own line). A value
    Django would refuse (a line break, an unencodable character) is Django's to refuse."""
    if "\n" in value or "\r" in value:
        forbid_multi_line_headers("Subject", value, "utf-8")  # raises
    if value.isascii():
        if not _PLAIN.match(value):
            return _folded("Subject", _stored("Subject", value))
        words = value.split(" ")
        out, width = [words[0]], len("Subject: ") + len(words[0])
        for word in words[1:]:
            if width + 1 + len(word) > _FOLD_AT:
                out.append("\n " + word)
                width = 1 + len(word)
            else:
                out.append(" " + word)
                width += 1 + len(word)
        return "".join(out)
    data = value.encode("utf-8")  # a lone surrogate raises here, as in Django
    encoded, start = [], 0
    while start < len(data):
        end = min(start + _WORD_BYTES, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
            end -= 1
        encoded.append(f"=?utf-8?b?{b64encode(data[start:end]).decode('ascii')}?=")
        start = end
    return "\n ".join(encoded)


def _part(subtype: str, text: str) -> tuple[str, list[str]] | None:
    """A text part's headers and body lines, or None where Django would encode the body
    quoted-printable (a line over 998 bytes) or cannot encode it at all."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None
    if size > RFC5322_EMAIL_LINE_LENGTH_LIMIT and any(
        len(line.encode("utf-8")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in text.splitlines()
    ):
        return None
    encoding = "7bit" if text.isascii() else "8bit"
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\nMIME-Version: 1.0\n'
        f"Content-Transfer-Encoding: {encoding}\n"
    )
    return head, _NEWLINES.split(text)


class WrittenMessage:
    """What `NotificationEmail.message()` returns: `as_bytes()` (what the SMTP, console and
    file backends send) written directly; anything else asked of it is answered by Django's
    own MIME tree of the same message, with the same boundary, date and Message-ID."""

    def __init__(self, email: NotificationEmail, head: str, parts: list, boundary: str) -> None:
        self._email = email
        self._head = head
        self._parts = parts
        self.boundary = boundary
        self._tree = None

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        if unixfrom:
            return self.tree().as_bytes(unixfrom=unixfrom, linesep=linesep)
        out = [self._head.replace("\n", linesep), linesep]
        for index, (head, lines) in enumerate(self._parts):
            out.append(f"{linesep if index else ''}--{self.boundary}{linesep}")
            out += (head.replace("\n", linesep), linesep, linesep.join(lines))
        out.append(f"{linesep}--{self.boundary}--{linesep}")
        return "".join(out).encode("utf-8")

    def __bytes__(self) -> bytes:
        return self.as_bytes()

    def tree(self):
        """Django's MIME tree of this message (built on first use)."""
        if self._tree is None:
            tree = EmailMultiAlternatives.message(self._email)
            tree.set_boundary(self.boundary)
            for name in ("Date", "Message-ID"):
                tree.replace_header(name, self._email.written[name])
            self._tree = tree
        return self._tree

    def __getattr__(self, name: str):
        if name.startswith("_"):  # copy and pickle probe for these: never build the tree
            raise AttributeError(name)
        return getattr(self.tree(), name)

    def __getitem__(self, name: str):
        return self.tree()[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tree()

    def __len__(self) -> int:
        return len(self.tree())

    def __iter__(self):
        return iter(self.tree())

    def __str__(self) -> str:
        return str(self.tree())


class NotificationEmail(EmailMultiAlternatives):
    """A notification's e-mail: plain text and one HTML alternative, UTF-8. Its `message()`
    is written directly (see the module's docstring); the fields are Django's, so every
    backend, and `mail.outbox` in tests, sees an ordinary EmailMultiAlternatives."""

    def message(self):
        written = self._written()
        return written if written is not None else super().message()

    def _written(self) -> WrittenMessage | None:
        if (
            self.encoding not in (None, "utf-8")
            or settings.DEFAULT_CHARSET != "utf-8"
            or self.attachments
            or self.cc
            or self.reply_to
            or not self.to
            or not self.body
            or self.content_subtype != "plain"
            or self.alternative_subtype != "alternative"
            or len(self.alternatives) != 1
            or self.alternatives[0][1] != "text/html"
            or any(name.lower() in _OWN_NAMES for name in self.extra_headers)
        ):
            return None
        parts = [_part("plain", self.body), _part("html", self.alternatives[0][0])]
        if None in parts:
            return None
        boundary = "=" * 15 + _TOKEN % random.randrange(sys.maxsize) + "=="
        marker = "--" + boundary
        if any(marker in line for _head, lines in parts for line in lines):
            return None  # vanishingly rare: Django's generator would draw another
        date = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        names = {name.lower() for name in self.extra_headers}
        message_id = None if "message-id" in names else make_msgid(domain=DNS_NAME)
        lines = [
            f'Content-Type: multipart/alternative;\n boundary="{boundary}"\n',
            "MIME-Version: 1.0\n",
            _header("Subject", str(self.subject)),
            _header("From", str(self.from_email)),
            _header("To", ", ".join(str(address) for address in self.to)),
            _header("Date", date),
        ]
        if message_id:
            lines.append(_header("Message-ID", message_id))
        for name, value in self.extra_headers.items():
            lines.append(_header(name, str(value)))
        self.written = {"Date": date, "Message-ID": message_id or self.extra_headers_id()}
        return WrittenMessage(self, "".join(lines), parts, boundary)

    def extra_headers_id(self) -> str:
        for name, value in self.extra_headers.items():
            if name.lower() == "message-id":
                return str(value)
        return ""
