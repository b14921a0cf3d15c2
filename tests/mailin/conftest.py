"""Fixtures of the mail tests: a real Dovecot on loopback, a mailbox pointed at it."""

from __future__ import annotations

import pytest

from mailin.choices import Security
from mailin.models import Mailbox
from tests.mailin.imapserver import DovecotServer

PASSWORD = "imap-Secret-Pw-7731"
PASSWORD_ENV = "SD_TEST_MAILBOX_PASSWORD"


@pytest.fixture(scope="session")
def dovecot():
    server = DovecotServer({"desk": PASSWORD, "other": "other-pw"}).start()
    yield server
    server.cleanup()


@pytest.fixture
def imap(dovecot):
    """The server with an empty INBOX and Processed folder for this test."""
    conn = dovecot.client("desk")
    try:
        for folder in ("INBOX", "Processed"):
            conn.select(folder)
            conn.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
            conn.expunge()
    finally:
        conn.logout()
    return dovecot


@pytest.fixture
def mailbox(db, imap, monkeypatch) -> Mailbox:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return Mailbox.objects.create(
        name="Service desk",
        host="127.0.0.1",
        port=imap.port,
        security=Security.NONE,
        username="desk",
        password_env=PASSWORD_ENV,
        address="help@desk.example",
        poll_seconds=60,
    )


def configure(mailbox: Mailbox, **fields) -> Mailbox:
    """Change a mailbox's settings without writing back its (poller-owned) counters."""
    Mailbox.objects.filter(pk=mailbox.pk).update(**fields)
    mailbox.refresh_from_db()
    return mailbox
