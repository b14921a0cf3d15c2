"""The IMAP poller: take a mailbox's unread mail, hand each message to `message_ingest`,
then mark it read (and move it, if the mailbox says so).

The standard library's imaplib, not imap-tools: the poller needs exactly a handful of UID
commands (SEARCH, FETCH with BODY.PEEK, STORE, MOVE/COPY) with full control over what is
fetched when (sizes first, so a 100 MB message is never downloaded) and over error handling;
a wrapper would add a dependency without removing code. Exactly-once does not rest on the
IMAP flags: the message's key is claimed in the database in the same transaction as its
ticket, so a crash before `\\Seen` only means the next poll finds the key taken and just
marks it read.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import socket
import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from .choices import Security
from .models import Mailbox
from .services import mailbox_record_poll, message_ingest, message_ingest_oversize

logger = logging.getLogger(__name__)

FETCH_CHUNK = 50
TIMEOUT_SECONDS = 30


class MailboxError(Exception):
    """The mailbox could not be polled (connection, login, folder); the text is safe to show."""


@dataclass
class PollResult:
    fetched: int = 0
    taken: int = 0
    duplicates: int = 0
    outcomes: Counter = field(default_factory=Counter)
    error: str = ""


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scrub(text: str, password: str) -> str:
    """An error message safe to store and show: never the password, one line."""
    if password:
        text = text.replace(password, "***")
    return " ".join(text.split())[:500]


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """Log in and select the folder; raises MailboxError with a password-free reason."""
    password = mailbox.password()
    if not password:
        raise MailboxError(f"environment variable {mailbox.password_env} is not set")
    try:
        if mailbox.security == Security.SSL:
            conn = imaplib.IMAP4_SSL(
                mailbox.host,
                mailbox.port,
                ssl_context=ssl.create_default_context(),
                timeout=TIMEOUT_SECONDS,
            )
        else:
            conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
            if mailbox.security == Security.STARTTLS:
                conn.starttls(ssl_context=ssl.create_default_context())
        conn.login(mailbox.username, password)
        typ, data = conn.select(_quote(mailbox.folder))
        if typ != "OK":
            raise MailboxError(f"cannot open folder {mailbox.folder}: {data!r}")
        return conn
    except MailboxError:
        raise
    except (OSError, imaplib.IMAP4.error, ssl.SSLError, EOFError) as exc:
        raise MailboxError(_scrub(f"{type(exc).__name__}: {exc}", password)) from None


def _fetch(conn: imaplib.IMAP4, uids: list[bytes], what: str) -> dict[bytes, bytes]:
    """UID FETCH → {uid: literal bytes} (or the RFC822.SIZE value as bytes)."""
    typ, data = conn.uid("FETCH", b",".join(uids).decode(), what)
    if typ != "OK":
        raise MailboxError(f"FETCH failed: {data!r}"[:300])
    out: dict[bytes, bytes] = {}
    for item in data:
        if isinstance(item, tuple):
            head, literal = item[0], item[1]
        elif isinstance(item, bytes):
            head, literal = item, b""
        else:
            continue
        match = re.search(rb"UID (\d+)", head)
        if not match:
            continue
        if what == "(RFC822.SIZE)":
            size = re.search(rb"RFC822\.SIZE (\d+)", head)
            out[match.group(1)] = size.group(1) if size else b"0"
        else:
            out[match.group(1)] = literal
    return out


def _mark_done(conn: imaplib.IMAP4, mailbox: Mailbox, uids: list[bytes]) -> None:
    if not uids:
        return
    uid_set = b",".join(uids).decode()
    conn.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen)")
    if mailbox.processed_folder:
        target = _quote(mailbox.processed_folder)
        if "MOVE" in conn.capabilities:
            conn.uid("MOVE", uid_set, target)
        else:
            conn.uid("COPY", uid_set, target)
            conn.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
            conn.expunge()


def poll_mailbox(
    mailbox: Mailbox,
    *,
    limit: int | None = None,
    on_processed: Callable[[list[bytes]], None] | None = None,
) -> PollResult:
    """One poll of one mailbox. Never raises for the server or for bad mail: a connection or
    login failure is recorded on the mailbox (failing, backed off) and returned in `error`.
    `on_processed` runs after a chunk's messages are in the database and before they are marked
    read (tests inject a crash there)."""
    result = PollResult()
    max_bytes = settings.MAILIN["MESSAGE_MAX_BYTES"]
    conn = None
    try:
        conn = connect(mailbox)
        typ, data = conn.uid("SEARCH", None, "UNSEEN")
        if typ != "OK":
            raise MailboxError(f"SEARCH failed: {data!r}"[:300])
        uids = data[0].split() if data and data[0] else []
        if limit is not None:
            uids = uids[:limit]
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start : start + FETCH_CHUNK]
            sizes = _fetch(conn, chunk, "(RFC822.SIZE)")
            small = [u for u in chunk if int(sizes.get(u, b"0")) <= max_bytes]
            large = [u for u in chunk if u not in small]
            bodies = _fetch(conn, small, "(BODY.PEEK[])") if small else {}
            headers = _fetch(conn, large, "(BODY.PEEK[HEADER])") if large else {}
            done: list[bytes] = []
            for uid in chunk:
                if uid in bodies:
                    row, taken = message_ingest(mailbox=mailbox, raw=bodies[uid])
                elif uid in headers:
                    row, taken = message_ingest_oversize(
                        mailbox=mailbox, header=headers[uid], size=int(sizes[uid])
                    )
                else:
                    continue  # expunged meanwhile by someone else
                result.fetched += 1
                if taken:
                    result.taken += 1
                    result.outcomes[row.outcome] += 1
                else:
                    result.duplicates += 1
                done.append(uid)
            if on_processed is not None:
                on_processed(done)
            _mark_done(conn, mailbox, done)
    except MailboxError as exc:
        result.error = str(exc)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError, EOFError, socket.timeout) as exc:
        result.error = _scrub(f"{type(exc).__name__}: {exc}", mailbox.password())
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.logout()
    if result.error:
        logger.warning("mailbox %s failed: %s", mailbox.name, result.error)
    mailbox_record_poll(mailbox_id=mailbox.pk, error=result.error)
    return result
