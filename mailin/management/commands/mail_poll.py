"""`manage.py mail_poll [NAME ...] [--check]`: poll mailboxes now (all active ones, or those
named), or with `--check` only log in and count the unread mail. For connecting a mailbox:
the same code path as the beat job, with its outcome on the terminal."""

from __future__ import annotations

import contextlib

from django.core.management.base import BaseCommand, CommandError

from mailin.imap import MailboxError, connect, poll_mailbox
from mailin.models import Mailbox


class Command(BaseCommand):
    help = "Poll mailboxes now, or --check that they can be reached."

    def add_arguments(self, parser) -> None:
        parser.add_argument("names", nargs="*", help="mailbox names (default: every active one)")
        parser.add_argument("--check", action="store_true", help="log in and count unread mail")

    def handle(self, *args, names: list[str], check: bool, **options) -> None:
        mailboxes = Mailbox.objects.filter(is_active=True).order_by("name")
        if names:
            mailboxes = Mailbox.objects.filter(name__in=names).order_by("name")
            unknown = set(names) - {m.name for m in mailboxes}
            if unknown:
                raise CommandError(f"no such mailbox: {', '.join(sorted(unknown))}")
        failed = False
        for mailbox in mailboxes:
            if check:
                try:
                    conn = connect(mailbox)
                except MailboxError as exc:
                    self.stdout.write(f"{mailbox.name}: FAILED {exc}")
                    failed = True
                    continue
                typ, data = conn.uid("SEARCH", None, "UNSEEN")
                unread = len(data[0].split()) if typ == "OK" and data and data[0] else 0
                with contextlib.suppress(Exception):
                    conn.logout()
                self.stdout.write(f"{mailbox.name}: OK, {unread} unread")
                continue
            result = poll_mailbox(mailbox)
            if result.error:
                self.stdout.write(f"{mailbox.name}: FAILED {result.error}")
                failed = True
                continue
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(result.outcomes.items()))
            self.stdout.write(
                f"{mailbox.name}: fetched {result.fetched}, taken {result.taken}, "
                f"duplicates {result.duplicates}" + (f" ({outcomes})" if outcomes else "")
            )
        if failed:
            raise CommandError("some mailboxes failed")
