"""E-mail intake benchmark (issue #13): `python bench/bench_mail.py [--small|--quick]
[--messages N] [--inline-reactions]`.

A real Dovecot on a loopback port (the tests' throwaway configuration) holds N ordinary
messages (default 1,000; `--small`/`--quick`: 100), each a short text and one small PDF
attachment, from 50 known requesters. One poll of the mailbox (`mailin.imap.poll_mailbox`:
IMAP fetch, MIME parsing, ticket creation through `tickets.services.ticket_create`, the
attachment through `attachment_add`, marking read) is timed end to end until every message is
a ticket with its attachment: messages/s. The intake reactions (classification, routing, SLA)
wait for a worker as in production (`REACTIONS_IN_WORKER`); `--inline-reactions` runs them in
the poll instead. Runs on its own database `servicedesk_bench_mail` (migrated, reused).

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

# BENCH_MAIL_DB_NAME lets helpers sharing one server keep their own copies apart.
DB_NAME = os.environ.get("BENCH_MAIL_DB_NAME") or "servicedesk_bench_mail"
REQUESTERS = 50
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n" + b"%" * 2000 + b"\n%%EOF\n"


def ensure_database() -> None:
    import psycopg2

    conn = psycopg2.connect(common.database_url("postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    conn.close()


def message(n: int, run: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Bench Requester {n % REQUESTERS} <bench-mail-{n % REQUESTERS}@example.com>"
    msg["To"] = "help@desk.example"
    msg["Subject"] = f"Printer {n} on floor {n % 12} prints blank pages"
    msg["Message-ID"] = f"<bench-{run}-{n}@example.com>"
    msg.set_content(
        f"Hello,\n\nthe printer number {n} prints only blank pages since this morning.\n"
        "I already restarted it.\n\nThanks\n"
    )
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"report-{n}.pdf")
    return msg.as_bytes()


def calibrate_cpu(server, mailbox, run: str, count: int) -> dict:
    """CPU time one message costs in the processes that work on it: this process (Python) and
    its PostgreSQL backend (Dovecot's per-login process ends with the poll and is left out; it
    only streams stored files). Measured on a one-thread poll (one backend to read) of
    `count` more messages. On a machine shared with other work the wall-clock rate above
    depends on what else runs; this does not, and `cpu_bound_msgs_per_s_2_cores` is the rate
    two otherwise idle cores give when the poll's threads keep both busy."""
    import psutil
    from django.conf import settings
    from django.db import connection

    from mailin.imap import poll_mailbox

    server.append_many("desk", [message(n, run + "-cal") for n in range(count)])
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cursor.fetchone()[0])

    def cpu(proc) -> float:
        times = proc.cpu_times()
        return times.user + times.system

    workers = settings.MAILIN["POLL_WORKERS"]
    settings.MAILIN["POLL_WORKERS"] = 1
    try:
        before = (time.process_time(), cpu(backend))
        result = poll_mailbox(mailbox)
        after = (time.process_time(), cpu(backend))
    finally:
        settings.MAILIN["POLL_WORKERS"] = workers
    assert result.taken == count, result
    python_ms, postgres_ms = ((a - b) * 1000 / count for a, b in zip(after, before, strict=True))
    total = python_ms + postgres_ms
    return {
        "cpu_ms_per_msg": {
            "python": round(python_ms, 2),
            "postgres": round(postgres_ms, 2),
            "total": round(total, 2),
            "measured_on": count,
        },
        "cpu_bound_msgs_per_s_2_cores": round(2000 / total, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--inline-reactions", action="store_true")
    args, _unknown = parser.parse_known_args()
    count = args.messages or (100 if (args.small or args.quick) else 1_000)
    os.environ["BENCH_DB_NAME"] = DB_NAME
    if args.inline_reactions:
        os.environ["REACTIONS_IN_WORKER"] = ""
    ensure_database()
    common.setup_django(quick=False)
    os.environ["SD_BENCH_MAILBOX_PASSWORD"] = "bench-Imap-Pw-1"

    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from accounts.choices import Role
    from accounts.models import User
    from mailin.choices import Security
    from mailin.imap import poll_mailbox
    from mailin.models import InboundMessage, Mailbox
    from tests.mailin.imapserver import DovecotServer
    from tickets.models import Attachment, Ticket

    group = Group.objects.get(name=str(Role.REQUESTER))
    for n in range(REQUESTERS):
        user, created = User.objects.get_or_create(
            username=f"bench-mail-{n}", defaults={"email": f"bench-mail-{n}@example.com"}
        )
        if created:
            user.groups.add(group)

    server = DovecotServer({"desk": "bench-Imap-Pw-1"}).start()
    try:
        mailbox, _ = Mailbox.objects.update_or_create(
            name="bench",
            defaults={
                "host": "127.0.0.1",
                "port": server.port,
                "security": Security.NONE,
                "username": "desk",
                "password_env": "SD_BENCH_MAILBOX_PASSWORD",
                "address": "help@desk.example",
                "new_tickets_per_hour": 1_000_000,
            },
        )
        run = uuid.uuid4().hex[:8]
        common.log(f"bench_mail: appending {count} messages to Dovecot on port {server.port}")
        started = time.monotonic()
        server.append_many("desk", [message(n, run) for n in range(count)])
        append_s = time.monotonic() - started
        tickets_before = Ticket.objects.count()
        attachments_before = Attachment.objects.count()
        common.log("bench_mail: polling")
        started, cpu = time.monotonic(), time.process_time()
        result = poll_mailbox(mailbox)
        seconds = time.monotonic() - started
        cpu_s = time.process_time() - cpu
        new_tickets = Ticket.objects.count() - tickets_before
        new_attachments = Attachment.objects.count() - attachments_before
        assert result.error == "", result.error
        assert new_tickets == count, (new_tickets, dict(result.outcomes))
        assert new_attachments == count, new_attachments
        assert server.count("desk", "UNSEEN") == 0
        cpu_costs = calibrate_cpu(server, mailbox, run, max(100, count // 5))
        common.emit(
            {
                "name": "mail",
                "messages": count,
                "tickets_created": new_tickets,
                "attachments_kept": new_attachments,
                "poll_s": round(seconds, 2),
                "messages_per_s": round(count / seconds, 1),
                "python_cpu_s": round(cpu_s, 2),
                "append_s": round(append_s, 2),
                "reactions": "inline" if args.inline_reactions else "worker (deferred)",
                "inbound_rows": InboundMessage.objects.count(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                **cpu_costs,
            }
        )
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
