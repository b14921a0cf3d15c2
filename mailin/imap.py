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
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction

from .choices import Security
from .models import Mailbox
from .services import (
    counts_for,
    mailbox_add_counts,
    mailbox_record_poll,
    message_ingest,
    message_ingest_oversize,
)

logger = logging.getLogger(__name__)

FETCH_CHUNK = 50
TIMEOUT_SECONDS = 30


class SenderMemo(threading.local):
    """Each polling thread's {address: User} for one poll: a sender who wrote several
    messages is looked up (with their permissions) once; it also keeps their count of new
    tickets in the last hour (key ("recent", address)) for the rate limit."""

    def get(self) -> dict:
        if not hasattr(self, "memo"):
            self.memo = {}
        return self.memo


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


COMMIT_EVERY = 10


def _run_all(function: Callable, items: list) -> list:
    """`function` over the items in MAILIN["POLL_WORKERS"] threads, each with its own database
    connection (closed when it ends), committing every COMMIT_EVERY messages: a message spends
    most of its time waiting on PostgreSQL and on the commit's disk flush. Each message is
    still its own savepoint, claim and ticket together, so exactly-once is unchanged; a crash
    loses at most the uncommitted group, which the next poll takes again. Results keep the
    order of the items."""
    workers = max(1, min(settings.MAILIN["POLL_WORKERS"], len(items)))
    results: list = [None] * len(items)
    errors: list[BaseException] = []
    pending = iter(enumerate(items))
    lock = threading.Lock()

    def work() -> None:
        while not errors:
            with lock:
                group = [job for job in (next(pending, None) for _ in range(COMMIT_EVERY)) if job]
            if not group:
                return
            with transaction.atomic():
                for index, item in group:
                    results[index] = function(item)

    def worker() -> None:
        try:
            work()
        except BaseException as exc:  # re-raised in the polling thread below
            errors.append(exc)
        finally:
            connection.close()

    if workers == 1:
        work()
        return results
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


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
    senders = SenderMemo()
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

            tally: Counter = Counter()

            def ingest(uid: bytes, bodies=bodies, headers=headers, sizes=sizes):
                if uid in bodies:
                    return message_ingest(
                        mailbox=mailbox, raw=bodies[uid], count=False, senders=senders.get()
                    )
                return message_ingest_oversize(
                    mailbox=mailbox, header=headers[uid], size=int(sizes[uid]), count=False
                )

            present = [uid for uid in chunk if uid in bodies or uid in headers]
            for uid, (row, taken) in zip(present, _run_all(ingest, present), strict=True):
                result.fetched += 1
                tally.update(counts_for(row.outcome if taken else ""))
                if taken:
                    result.taken += 1
                    result.outcomes[row.outcome] += 1
                else:
                    result.duplicates += 1
                done.append(uid)
            mailbox_add_counts(mailbox_id=mailbox.pk, counts=tally)
            if on_processed is not None:
                on_processed(done)
            _mark_done(conn, mailbox, done)
    except MailboxError as exc:
        result.error = str(exc)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError, EOFError, TimeoutError) as exc:
        result.error = _scrub(f"{type(exc).__name__}: {exc}", mailbox.password())
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.logout()
    if result.error:
        logger.warning("mailbox %s failed: %s", mailbox.name, result.error)
    mailbox_record_poll(mailbox_id=mailbox.pk, error=result.error)
    return result
