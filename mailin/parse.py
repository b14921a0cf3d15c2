"""Turn raw bytes from anywhere into a `ParsedMail`, without ever raising on bad MIME.

The standard library parser with the lenient `compat32` policy does the structure (nested
multiparts, transfer encodings); everything it leaves as bytes or escaped bytes is decoded
here with a charset fallback chain, because real mail mislabels charsets all the time:
GB2312 labels on GBK text, no label at all on GB18030 or Big5, 8-bit bytes in headers.
Parsing failures that make a message unusable raise `UnparsableMail`, which sends it to the
quarantine with the reason.
"""

from __future__ import annotations

import codecs
import email
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser

import nh3

# Labels that lie: a wider superset decodes everything the label promises and more.
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}
# Tried in this order when the label is missing or wrong. UTF-8 first: it rarely decodes
# anything else by accident; GB18030 decodes almost any byte string, so Big5 before it only
# where it decodes cleanly and GB18030 does not (handled in `decode_bytes`).
FALLBACK_CHARSETS = ("utf-8", "gb18030", "big5hkscs", "cp1252")

MAX_TEXT_CHARS = 200_000


class UnparsableMail(Exception):
    """The message cannot become a ticket; the text says why (shown in the quarantine)."""


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip('"').lower()
    label = CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes to text: the declared charset if it decodes cleanly, else the fallback chain,
    else the declared (or UTF-8) with replacement characters. Never raises."""
    if not data:
        return ""
    declared = _codec(charset)
    tried = []
    for label in (declared, *FALLBACK_CHARSETS):
        if label is None or label in tried:
            continue
        tried.append(label)
        try:
            return data.decode(label)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(declared or "utf-8", errors="replace")


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def _decode_word(encoding: str, payload: str) -> bytes:
    if encoding.lower() == "b":
        import base64
        import binascii

        payload = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        payload += "=" * (-len(payload) % 4)
        try:
            return base64.b64decode(payload)
        except (binascii.Error, ValueError):
            return b""
    import quopri

    return quopri.decodestring(payload.replace("_", " ").encode("ascii", "replace"), header=True)


def decode_header(value: object) -> str:
    """An RFC 2047 header value (also raw 8-bit, also malformed) to one line of text.

    Adjacent encoded words of one charset are joined as bytes before decoding, since mailers
    split multi-byte characters across words. Control characters (CR, LF, NUL...) become
    spaces, so nothing from outside can ever start a new header line.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    # compat32 keeps 8-bit header bytes as surrogate escapes: get the bytes back, decode them.
    raw = value.encode("utf-8", "surrogateescape")
    if any(b > 0x7F for b in raw):
        value = decode_bytes(raw)
    pieces: list[tuple[str | None, bytes | str]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        # Whitespace between two encoded words is not part of the text (RFC 2047 §6.2).
        if between and not (pieces and pieces[-1][0] is not None and not between.strip()):
            pieces.append((None, between))
        charset = (match.group(1).split("*", 1)[0]) or "utf-8"
        data = _decode_word(match.group(2), match.group(3))
        if pieces and pieces[-1][0] is not None and _codec(pieces[-1][0]) == _codec(charset):
            pieces[-1] = (pieces[-1][0], pieces[-1][1] + data)
        else:
            pieces.append((charset, data))
        position = match.end()
    pieces.append((None, value[position:]))
    text = "".join(
        part if charset is None else decode_bytes(part, charset) for charset, part in pieces
    )
    return clean_line(text)


def clean_line(text: str) -> str:
    """One line: every control character (and Unicode line separators) to a space."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def _header(message: Message, name: str) -> str:
    """The first header of this name, decoded from what was on the wire (`raw_items` keeps
    8-bit bytes as surrogate escapes; `get` would already have replaced them)."""
    name = name.lower()
    try:
        for key, value in message.raw_items():
            if key.lower() == name:
                return decode_header(value)
    except Exception:  # a header the library itself cannot turn into text
        return ""
    return ""


def _address(message: Message, name: str) -> tuple[str, str]:
    """(display name, address): split before decoding, so a decoded name ("Evil\r\nBcc: x")
    can never be read as address syntax; the name is decoded afterwards."""
    value = ""
    for key, raw in message.raw_items():
        if key.lower() == name:
            value = raw if isinstance(raw, str) else str(raw)
            break
    value = " ".join(value.split())  # unfold
    display, address = email.utils.parseaddr(value)
    if not address and value:
        display, address = email.utils.parseaddr(decode_header(value))
    return decode_header(display), decode_header(address)


_MSGID = re.compile(r"<([^<>\s]{1,250})>")


def message_ids(value: str) -> list[str]:
    """The Message-IDs in In-Reply-To / References, without angle brackets."""
    return _MSGID.findall(value or "")[:100]


@dataclass
class Part:
    """An attachment or inline image as it arrived."""

    filename: str
    content_type: str
    content: bytes
    inline: bool = False


@dataclass
class ParsedMail:
    """What the desk reads from one message."""

    message_id: str
    key: str
    from_address: str
    from_name: str
    subject: str
    in_reply_to: list[str]
    references: list[str]
    text: str
    html_sanitised: str
    attachments: list[Part] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    report_original: Message | None = None
    final_recipients: list[str] = field(default_factory=list)
    is_delivery_report: bool = False


# The headers loop protection and threading read (lower-case names).
WATCHED_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "x-servicedesk-origin",
    "return-path",
    "content-type",
    "list-id",
)


def message_key(message_id: str, raw: bytes) -> str:
    if message_id:
        return "m:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
    return "r:" + hashlib.sha256(raw).hexdigest()


def parse(raw: bytes) -> ParsedMail:
    """Parse one message. Raises `UnparsableMail` only when nothing usable is in it."""
    if not raw or not raw.strip():
        raise UnparsableMail("empty message (0 bytes)")
    try:
        message = email.message_from_bytes(raw)
    except Exception as exc:  # compat32 rarely raises; a recursion bomb can
        raise UnparsableMail(f"the MIME structure cannot be read: {type(exc).__name__}") from exc
    present = {key.lower() for key in message}
    headers = {name: _header(message, name) for name in WATCHED_HEADERS if name in present}
    message_id_list = message_ids(_header(message, "message-id"))
    message_id = message_id_list[0] if message_id_list else ""
    from_name, from_address = _address(message, "from")
    if not from_address:
        from_name, from_address = _address(message, "sender")
    from_address = clean_line(from_address).lower()
    if "@" not in from_address or len(from_address) > 254 or " " in from_address:
        raise UnparsableMail("no usable sender address (From)")
    parsed = ParsedMail(
        message_id=message_id,
        key=message_key(message_id, raw),
        from_address=from_address,
        from_name=clean_line(from_name)[:150],
        subject=_header(message, "subject")[:255],
        in_reply_to=message_ids(_header(message, "in-reply-to")),
        references=message_ids(_header(message, "references")),
        text="",
        html_sanitised="",
        headers=headers,
    )
    try:
        _walk(message, parsed)
    except RecursionError as exc:
        raise UnparsableMail("the MIME parts are nested too deeply") from exc
    parsed.text = parsed.text[:MAX_TEXT_CHARS]
    return parsed


MAX_PARTS = 500
MAX_DEPTH = 200


def _leaves(message: Message, depth: int = 0):
    """The leaf parts, depth first. An attached message (message/rfc822 below the top) is one
    leaf — a forwarded mail is a file on the ticket, its text not mixed into the request."""
    if depth > MAX_DEPTH:
        raise UnparsableMail("the MIME parts are nested too deeply")
    if depth > 0 and message.get_content_type() in ("message/rfc822", "message/delivery-status"):
        yield message
        return
    if message.is_multipart():
        payload = message.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                yield from _leaves(sub, depth + 1)
        return
    yield message


def _walk(message: Message, parsed: ParsedMail) -> None:
    texts: list[str] = []
    htmls: list[str] = []
    count = 0
    if message.get_content_type() == "multipart/report":
        parsed.is_delivery_report = True
    for part in _leaves(message):
        count += 1
        if count > MAX_PARTS:
            break
        ctype = part.get_content_type()
        disposition = (part.get("content-disposition") or "").split(";", 1)[0].strip().lower()
        filename = _filename(part)
        payload = _payload(part)
        if ctype == "message/delivery-status":
            parsed.is_delivery_report = True
            parsed.final_recipients += _final_recipients(payload)
            continue
        if ctype in ("message/rfc822", "text/rfc822-headers") and parsed.is_delivery_report:
            parsed.report_original = _original(part, payload)
            continue
        is_attachment = disposition == "attachment" or (
            filename and not (ctype in ("text/plain", "text/html") and disposition == "inline")
        )
        if ctype == "text/plain" and not is_attachment:
            texts.append(decode_bytes(payload, part.get_content_charset()))
        elif ctype == "text/html" and not is_attachment:
            htmls.append(decode_bytes(payload, part.get_content_charset()))
        elif payload or filename:
            inline = disposition == "inline" or bool(part.get("content-id"))
            parsed.attachments.append(
                Part(
                    filename=filename or _default_name(ctype),
                    content_type=ctype,
                    content=payload,
                    inline=inline and ctype.startswith("image/"),
                )
            )
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    html = "\n".join(htmls)
    if html:
        parsed.html_sanitised = nh3.clean(html)[:MAX_TEXT_CHARS]
        if not text:
            text = html_to_text(html)
    parsed.text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:
        inner = part.get_payload()
        if isinstance(inner, list):  # a message/* part: its text form
            try:
                return b"".join(m.as_bytes() for m in inner if isinstance(m, Message))
            except Exception:
                return b""
        if isinstance(inner, str):
            return inner.encode("utf-8", "surrogateescape")
        return b""
    return payload


def _filename(part: Message) -> str:
    name = None
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        name = part.get_param("name")
        if isinstance(name, tuple):  # RFC 2231 in Content-Type
            name = email.utils.collapse_rfc2231_value(name)
    if not name:
        return ""
    return decode_header(name)[:200]


_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/html": "html",
    "message/rfc822": "eml",
    "application/ms-tnef": "dat",
}


def _default_name(ctype: str) -> str:
    return f"attachment.{_EXTENSIONS.get(ctype, 'bin')}"


def _final_recipients(payload: bytes) -> list[str]:
    text = decode_bytes(payload)
    found = re.findall(
        r"(?im)^(?:final|original)-recipient:\s*(?:rfc822;)?\s*<?([^\s<>;]+@[^\s<>;]+)>?", text
    )
    return [clean_line(a).lower() for a in found][:10]


def _original(part: Message, payload: bytes) -> Message | None:
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        return inner[0]
    try:
        return email.message_from_bytes(payload)
    except Exception:
        return None


class _TextExtractor(HTMLParser):
    """HTML to readable plain text: block elements become line breaks; scripts, styles and
    the head are dropped."""

    BLOCKS = {
        "p",
        "div",
        "br",
        "tr",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "hr",
        "section",
        "article",
        "header",
        "footer",
    }
    SKIP = {"script", "style", "head", "title", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:
        return nh3.clean(html, tags=set())
    lines = [line.strip() for line in "".join(extractor.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
