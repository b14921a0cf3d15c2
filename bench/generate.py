"""Fill the benchmark database with a realistic desk: `python bench/generate.py [--quick]`.

    --tickets N              tickets to generate (default 1,000,000; 20,000 with --quick)
    --events-per-ticket K    operation-log entries per ticket (default 3)
    --force                  drop the bench database and generate again

The data goes into a separate database on the same server (`servicedesk_bench`, or
`servicedesk_bench_quick` for --quick), created and migrated here. The few reference rows
(units, teams, systems, ~200 agents, managers) go through the ORM; the bulk (20,000
requesters, the tickets, the events) is set-based SQL over generate_series, loaded with the
secondary indexes dropped and the foreign-key triggers off, then indexed and VACUUM ANALYZEd:
minutes, not hours. A marker row in `bench_meta` records what was generated, so running it
again with the same size only migrates (new migrations of other apps apply to the kept data);
a database whose tables no longer match the models is generated again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

DATASET_VERSION = 1
REQUESTERS = 20_000
FRONT_TEAMS, MIDDLE_TEAMS, BACK_TEAMS = 3, 6, 10
COMPANIES, DEPARTMENTS = 8, 12
SYSTEMS = 40

# Realistic ticket titles (the classifier's kind of text), mixed languages like the real desk.
TITLES = [
    "VPN cannot connect from home",
    "VPN 连接失败，提示证书过期",
    "打印机无法打印，卡纸",
    "Printer on floor 3 offline",
    "交易系统登录超时",
    "Trading terminal freezes when opening the order book",
    "需要开通报表系统权限",
    "Please grant access to the finance reports",
    "邮箱无法收发邮件",
    "Outlook keeps asking for the password",
    "数据库查询很慢",
    "Nightly batch job failed",
    "Wi-Fi drops every few minutes in meeting room B",
    "无线网络频繁掉线",
    "Password reset for the HR system",
    "账号被锁定",
    "Request a new laptop",
    "电脑蓝屏",
    "Report shows wrong totals for October",
    "报表数据不一致",
    "Change request: add export to CSV",
    "功能变更：增加审批节点",
    "Complaint: ticket closed without a fix",
    "中间件告警：消息队列堆积",
]


def log(message: str) -> None:
    common.log(f"generate: {message}")


def connect_server():
    import psycopg2

    conn = psycopg2.connect(common.server_url())
    conn.autocommit = True
    return conn


def database_exists(name: str) -> bool:
    with connect_server() as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cur.fetchone() is not None


def read_marker(name: str) -> dict | None:
    import psycopg2

    if not database_exists(name):
        return None
    conn = psycopg2.connect(common.database_url(name))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('bench_meta') IS NOT NULL")
            if not cur.fetchone()[0]:
                return None
            cur.execute("SELECT value FROM bench_meta WHERE key = 'dataset'")
            row = cur.fetchone()
            return row[0] if row else None
    finally:
        conn.close()


def recreate_database(name: str) -> None:
    from psycopg2 import sql

    conn = connect_server()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def migrate(quick: bool) -> None:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(common.ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=common.ROOT,
        env=common.bench_env(quick),
        check=True,
    )
    log(f"migrated in {time.monotonic() - started:.1f}s")


# --- reference data through the ORM --------------------------------------------------------


def create_reference_data() -> dict:
    """Units, teams, systems, agents, managers and an administrator (a few hundred rows)."""
    from django.contrib.auth.models import Group
    from django.db import transaction

    from accounts.choices import Role, Tier
    from accounts.models import OrgUnit, Team, TeamMembership, User
    from catalog.models import InformationSystem, SystemModule

    with transaction.atomic():
        root = OrgUnit.add_root(code="bench-group", name="Bench Group", kind="group")
        departments = []
        managers = []
        for c in range(1, COMPANIES + 1):
            company = root.add_child(code=f"bench-co{c}", name=f"Company {c}", kind="company")
            for d in range(1, DEPARTMENTS + 1):
                departments.append(
                    company.add_child(
                        code=f"bench-co{c}-d{d}", name=f"Company {c} dept {d}", kind="department"
                    )
                )
            managers.append((company, f"bench-manager-{c}"))

        back = [
            Team.objects.create(code=f"bench-back-{i}", name=f"Back office {i}", tier=Tier.BACK)
            for i in range(1, BACK_TEAMS + 1)
        ]
        middle = [
            Team.objects.create(
                code=f"bench-middle-{i}",
                name=f"Middle office {i}",
                tier=Tier.MIDDLE,
                escalates_to=back[(i - 1) % BACK_TEAMS],
                is_on_duty=i == 1,
            )
            for i in range(1, MIDDLE_TEAMS + 1)
        ]
        front = [
            Team.objects.create(
                code=f"bench-front-{i}",
                name=f"Front office {i}",
                tier=Tier.FRONT,
                escalates_to=middle[(i - 1) % MIDDLE_TEAMS],
            )
            for i in range(1, FRONT_TEAMS + 1)
        ]
        systems = []
        for s in range(1, SYSTEMS + 1):
            system = InformationSystem.objects.create(
                code=f"bench-sys-{s}",
                name=f"System {s}",
                owner_team=back[(s - 1) % BACK_TEAMS],
                is_core=s <= 5,
            )
            systems.append(system)
            SystemModule.objects.bulk_create(
                SystemModule(system=system, code=f"m{m}", name=f"Module {m}") for m in range(1, 5)
            )

        groups = {g.name: g for g in Group.objects.all()}
        # (team, role, how many): 60 front, 60 middle, 80 back = 200 agents.
        staffing = [(t, Role.FRONT_TIER1, 15) for t in front]
        staffing += [(t, Role.FRONT_TIER2, 5) for t in front]
        staffing += [(t, Role.MIDDLE_EXPERT, 10) for t in middle]
        staffing += [(t, Role.BACK_ENGINEER, 8) for t in back]
        for team, role, count in staffing:
            for n in range(1, count + 1):
                user = User.objects.create(
                    username=f"{team.code}-{role}-{n:02d}",
                    display_name=f"{team.name} {role} {n}",
                    email=f"{team.code}-{role}-{n}@bench.example",
                    password="!",  # unusable: nobody signs in as a bench agent
                )
                user.groups.add(groups[str(role)])
                TeamMembership.objects.create(team=team, user=user)
        for company, username in managers:
            user = User.objects.create(username=username, display_name=username, password="!")
            user.groups.add(groups[str(Role.MANAGER)])
            user.managed_units.add(company)
        admin = User.objects.create(
            username="bench-admin", display_name="Bench admin", password="!", is_staff=True
        )
        admin.groups.add(groups[str(Role.ADMINISTRATOR)])
    return {
        "departments": [(u.pk, u.path) for u in departments],
        "teams": [(t.pk, t.tier) for t in [*front, *middle, *back]],
        "systems": [s.pk for s in systems],
        "requester_group": groups[str(Role.REQUESTER)].pk,
    }


# --- the bulk through set-based SQL --------------------------------------------------------


def secondary_indexes(cur, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes not backing a constraint."""
    cur.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = %s AND NOT EXISTS (
            SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname
        )
        """,
        [table],
    )
    return cur.fetchall()


def load_bulk(ref: dict, tickets: int, events_per_ticket: int) -> dict:
    from django.conf import settings
    from django.db import connection, transaction

    prefix = settings.SERVICEDESK["TICKET_NUMBER_PREFIX"]
    timings = {}
    with transaction.atomic(), connection.cursor() as cur:
        # A bulk load: no per-row foreign-key triggers (the data is consistent by construction),
        # no waiting for the WAL flush, big sort memory for the index builds.
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("SELECT setseed(0.42)")

        started = time.monotonic()
        cur.execute(
            "CREATE TEMP TABLE bench_dept (idx int PRIMARY KEY, unit_id bigint, path text) "
            "ON COMMIT DROP"
        )
        cur.executemany(
            "INSERT INTO bench_dept VALUES (%s, %s, %s)",
            [(i, pk, path) for i, (pk, path) in enumerate(ref["departments"])],
        )
        cur.execute("SELECT coalesce(max(id), 0) FROM accounts_user")
        (user_offset,) = cur.fetchone()
        cur.execute(
            """
            INSERT INTO accounts_user (id, password, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined, display_name, phone,
                is_away, unit_id, language, time_zone)
            SELECT %(off)s + g, '!', false, 'bench-user-' || g, '', '',
                'bench-user-' || g || '@bench.example', false, true, now(),
                'Requester ' || g, '', false, d.unit_id, '', ''
            FROM generate_series(1, %(n)s) g
            JOIN bench_dept d ON d.idx = g %% %(depts)s
            """,
            {"off": user_offset, "n": REQUESTERS, "depts": len(ref["departments"])},
        )
        cur.execute(
            "INSERT INTO accounts_user_groups (user_id, group_id) "
            "SELECT %s + g, %s FROM generate_series(1, %s) g",
            [user_offset, ref["requester_group"], REQUESTERS],
        )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('accounts_user', 'id'), "
            "(SELECT max(id) FROM accounts_user))"
        )
        cur.execute(
            """
            CREATE TEMP TABLE bench_req ON COMMIT DROP AS
            SELECT (u.id - %s - 1)::int AS idx, u.id AS user_id, u.unit_id, o.path
            FROM accounts_user u JOIN accounts_orgunit o ON o.id = u.unit_id
            WHERE u.id > %s
            """,
            [user_offset, user_offset],
        )
        cur.execute("CREATE UNIQUE INDEX ON bench_req (idx)")
        # Teams numbered 0..18: 0-2 front, 3-8 middle, 9-18 back; with their members.
        cur.execute(
            """
            CREATE TEMP TABLE bench_team ON COMMIT DROP AS
            SELECT (row_number() OVER (
                ORDER BY array_position(ARRAY['front', 'middle', 'back'], t.tier::text), t.id
            ) - 1)::int AS idx, t.id AS team_id, t.tier,
                   array_agg(m.user_id ORDER BY m.user_id) AS members
            FROM accounts_team t JOIN accounts_teammembership m ON m.team_id = t.id
            WHERE t.code LIKE 'bench-%'
            GROUP BY t.id, t.tier
            """
        )
        cur.execute("CREATE TEMP TABLE bench_sys (idx int, system_id bigint) ON COMMIT DROP")
        cur.executemany("INSERT INTO bench_sys VALUES (%s, %s)", list(enumerate(ref["systems"])))
        cur.execute(
            "CREATE TEMP TABLE bench_rt ON COMMIT DROP AS SELECT "
            "(row_number() OVER (ORDER BY id) - 1)::int AS idx, id FROM catalog_requesttype"
        )
        cur.execute("CREATE TEMP TABLE bench_title (idx int, title text) ON COMMIT DROP")
        cur.executemany("INSERT INTO bench_title VALUES (%s, %s)", list(enumerate(TITLES)))
        timings["people_s"] = round(time.monotonic() - started, 1)

        # Drop the secondary indexes for the load; rebuilt below, identical, in one pass each.
        dropped = []
        for table in ("tickets_ticket", "tickets_ticketevent"):
            for name, definition in secondary_indexes(cur, table):
                cur.execute(f'DROP INDEX "{name}"')
                dropped.append(definition)
        cur.execute("SELECT coalesce(max(id), 0) FROM tickets_ticket")
        (ticket_offset,) = cur.fetchone()

        started = time.monotonic()
        # Ticket n was created (N - n) steps before now over three years: ids grow with time.
        # Older tickets are nearly all closed; the newest 5% hold most of the open work.
        cur.execute(
            r"""
            INSERT INTO tickets_ticket (id, number, title, description, unit_path, channel,
                impact, urgency, priority, tier, status, pending_reason, needs_triage,
                classification_confidence, resolution, created_at, updated_at,
                first_response_at, resolved_at, closed_at, reopen_count, external_source,
                external_ref, assignee_id, category_id, created_by_id, incident_id,
                merged_into_id, module_id, request_type_id, requester_id, system_id, team_id,
                unit_id)
            SELECT %(toff)s + s.n,
                %(prefix)s || '-' || extract(year FROM s.created_at)::int || '-'
                    || lpad((%(toff)s + s.n)::text,
                            greatest(6, length((%(toff)s + s.n)::text)), '0'),
                ti.title, 'Generated for the benchmark, ticket ' || s.n || '.',
                s.path, s.channel, s.impact, s.urgency,
                CASE WHEN s.r_prio < 0.02 THEN 'P1' WHEN s.r_prio < 0.15 THEN 'P2'
                     WHEN s.r_prio < 0.70 THEN 'P3' ELSE 'P4' END,
                CASE WHEN s.status = 'new' THEN '' ELSE t.tier END,
                s.status,
                CASE WHEN s.status = 'pending' THEN
                    (ARRAY['requester', 'vendor', 'change', 'other'])[1 + floor(s.r_x * 4)::int]
                    ELSE '' END,
                s.status = 'new',
                round((0.3 + 0.7 * s.r_x)::numeric, 2)::float8,
                CASE WHEN s.status IN ('resolved', 'closed', 'pending_verification')
                     THEN 'Fixed: see the knowledge base.' ELSE '' END,
                s.created_at, s.created_at + interval '2 hours',
                CASE WHEN s.status IN ('new', 'queued') THEN NULL
                     ELSE s.created_at + interval '20 minutes' END,
                CASE WHEN s.status IN ('resolved', 'closed')
                     THEN s.created_at + interval '1 day' END,
                CASE WHEN s.status IN ('closed', 'cancelled')
                     THEN s.created_at + interval '3 days' END,
                0, '', '',
                CASE WHEN s.status IN ('new', 'queued') THEN NULL
                     ELSE t.members[1 + floor(s.r_x * cardinality(t.members))::int] END,
                NULL, s.requester_id, NULL, NULL, NULL,
                rt.id, s.requester_id,
                CASE WHEN t.tier = 'front' THEN NULL ELSE sy.system_id END,
                CASE WHEN s.status = 'new' THEN NULL ELSE t.team_id END,
                s.unit_id
            FROM (
                SELECT g.n, q.user_id AS requester_id, q.unit_id, q.path,
                    now() - (%(n)s - g.n) * (interval '1095 days' / %(n)s) AS created_at,
                    (ARRAY['portal', 'portal', 'portal', 'email', 'phone', 'im', 'api',
                           'alert', 'chatbot'])[1 + floor(random() * 9)::int] AS channel,
                    1 + floor(random() * 4)::int AS impact,
                    1 + floor(random() * 4)::int AS urgency,
                    random() AS r_prio, random() AS r_x,
                    floor(random() * %(titles)s)::int AS title_idx,
                    floor(random() * %(types)s)::int AS type_idx,
                    floor(random() * %(systems)s)::int AS sys_idx,
                    -- 60 %% front office, 28 %% middle, 12 %% back.
                    CASE WHEN g.r_team < 0.60 THEN floor(g.r_team / 0.60 * %(front)s)
                         WHEN g.r_team < 0.88
                            THEN %(front)s + floor((g.r_team - 0.60) / 0.28 * %(middle)s)
                         ELSE %(front)s + %(middle)s
                            + floor((g.r_team - 0.88) / 0.12 * %(back)s) END::int AS team_idx,
                    CASE WHEN g.n > %(n)s * 0.95 THEN
                        CASE WHEN g.r_status < 0.04 THEN 'new'
                             WHEN g.r_status < 0.24 THEN 'queued'
                             WHEN g.r_status < 0.59 THEN 'in_progress'
                             WHEN g.r_status < 0.69 THEN 'pending'
                             WHEN g.r_status < 0.73 THEN 'pending_verification'
                             WHEN g.r_status < 0.85 THEN 'resolved'
                             WHEN g.r_status < 0.97 THEN 'closed'
                             ELSE 'cancelled' END
                    ELSE
                        CASE WHEN g.r_status < 0.003 THEN 'in_progress'
                             WHEN g.r_status < 0.005 THEN 'pending'
                             WHEN g.r_status < 0.055 THEN 'cancelled'
                             ELSE 'closed' END
                    END AS status
                FROM (
                    SELECT n, random() AS r_team, random() AS r_status,
                           floor(random() * %(reqs)s)::int AS req_idx
                    FROM generate_series(1, %(n)s) n
                ) g
                JOIN bench_req q ON q.idx = g.req_idx
            ) s
            JOIN bench_team t ON t.idx = s.team_idx
            JOIN bench_title ti ON ti.idx = s.title_idx
            JOIN bench_rt rt ON rt.idx = s.type_idx
            JOIN bench_sys sy ON sy.idx = s.sys_idx
            """,
            {
                "toff": ticket_offset,
                "prefix": prefix,
                "n": tickets,
                "titles": len(TITLES),
                "types": _count(cur, "bench_rt"),
                "systems": len(ref["systems"]),
                "front": FRONT_TEAMS,
                "middle": MIDDLE_TEAMS,
                "back": BACK_TEAMS,
                "reqs": REQUESTERS,
            },
        )
        timings["tickets_s"] = round(time.monotonic() - started, 1)
        log(f"{tickets:,} tickets in {timings['tickets_s']}s")

        started = time.monotonic()
        cur.execute("SELECT coalesce(max(id), 0) FROM tickets_ticketevent")
        (event_offset,) = cur.fetchone()
        # Entry 1: created by the requester; 2: routed by the desk (new → queued); 3: the
        # agent takes it (queued → in progress) or, still queued, the classifier's note;
        # further entries alternate public replies and internal notes.
        cur.execute(
            r"""
            INSERT INTO tickets_ticketevent (id, kind, actor_kind, field, old_value, new_value,
                message, data, is_public, created_at, actor_id, ticket_id)
            SELECT %(eoff)s + (t.id - %(toff)s - 1) * %(k)s + e,
                CASE WHEN e = 1 THEN 'ticket.created'
                     WHEN e = 2 OR (e = 3 AND t.assignee_id IS NOT NULL)
                        THEN 'ticket.status_changed'
                     WHEN e = 3 THEN 'routing.classified'
                     WHEN e %% 2 = 0 THEN 'ticket.commented'
                     ELSE 'ticket.note_added' END,
                CASE WHEN e = 1 THEN 'requester'
                     WHEN e = 2 OR (e = 3 AND t.assignee_id IS NULL) THEN 'system'
                     ELSE 'agent' END,
                CASE WHEN e IN (2, 3) AND (e = 2 OR t.assignee_id IS NOT NULL) THEN 'status'
                     ELSE '' END,
                CASE WHEN e = 2 THEN '"new"'::jsonb
                     WHEN e = 3 AND t.assignee_id IS NOT NULL THEN '"queued"'::jsonb END,
                CASE WHEN e = 1 THEN to_jsonb(t.number)
                     WHEN e = 2 THEN '"queued"'::jsonb
                     WHEN e = 3 AND t.assignee_id IS NOT NULL THEN '"in_progress"'::jsonb END,
                CASE WHEN e > 3 THEN 'Generated reply ' || e ELSE '' END,
                CASE WHEN e = 1 THEN jsonb_build_object('channel', t.channel)
                     WHEN e = 2 THEN '{"transition": "route"}'::jsonb
                     WHEN e = 3 AND t.assignee_id IS NOT NULL
                        THEN '{"transition": "start_work"}'::jsonb
                     WHEN e = 3 THEN '{"confidence": 0.8}'::jsonb
                     ELSE '{}'::jsonb END,
                NOT (e = 3 AND t.assignee_id IS NULL) AND NOT (e > 3 AND e %% 2 = 1),
                t.created_at + e * interval '10 minutes',
                CASE WHEN e = 1 THEN t.requester_id WHEN e = 2 THEN NULL
                     ELSE t.assignee_id END,
                t.id
            FROM tickets_ticket t CROSS JOIN generate_series(1, %(k)s) e
            WHERE t.id > %(toff)s
            """,
            {"eoff": event_offset, "toff": ticket_offset, "k": events_per_ticket},
        )
        timings["events_s"] = round(time.monotonic() - started, 1)
        log(f"{tickets * events_per_ticket:,} events in {timings['events_s']}s")

        started = time.monotonic()
        cur.execute("SET LOCAL max_parallel_maintenance_workers = 2")
        for definition in dropped:
            cur.execute(definition)
        timings["indexes_s"] = round(time.monotonic() - started, 1)
        log(f"{len(dropped)} indexes rebuilt in {timings['indexes_s']}s")

        for table in ("tickets_ticket", "tickets_ticketevent"):
            # Constant table names, not input.
            query = "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {}))"
            cur.execute(query.format(table), [table])
        # New tickets number on from the generated ones.
        cur.execute(
            "SELECT setval('tickets_ticket_number_seq', "
            "greatest((SELECT max(id) FROM tickets_ticket), 1))"
        )
    return timings


def _count(cur, table: str) -> int:
    # Constant table names from this module, never input.
    cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608  # nosec B608
    return cur.fetchone()[0]


def write_marker(value: dict) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value jsonb NOT NULL)"
        )
        cur.execute(
            "INSERT INTO bench_meta VALUES ('dataset', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(value)],
        )


def vacuum_analyze() -> float:
    import psycopg2
    from django.db import connection

    started = time.monotonic()
    connection.close()
    conn = psycopg2.connect(common.database_url(connection.settings_dict["NAME"]))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()
    return round(time.monotonic() - started, 1)


def schema_gaps() -> list[str]:
    """Tables or columns the models have and the bench database lacks.

    Migrations rewritten in place (while a feature is being built) leave an old bench database
    behind that `migrate` no longer changes; such a database is generated again.
    """
    from django.apps import apps
    from django.db import connection

    gaps = []
    with connection.cursor() as cur:
        tables = set(connection.introspection.table_names(cur))
        for model in apps.get_models():
            meta = model._meta
            if not meta.managed or meta.proxy:
                continue
            if meta.db_table not in tables:
                gaps.append(meta.db_table)
                continue
            columns = {
                c.name for c in connection.introspection.get_table_description(cur, meta.db_table)
            }
            gaps += [
                f"{meta.db_table}.{f.column}"
                for f in meta.local_concrete_fields
                if f.column not in columns
            ]
    return gaps


def ensure_classifier_models() -> None:
    """Give the bench desk active classifier models, as a working desk has: new tickets are then
    classified by the models, not sent straight to manual triage, and the intake measurements
    include the predictions. Trained on the built-in examples, into the bench's own model
    directory (`common.bench_env`); only targets without an active model are trained."""
    from routing.services import routing_bootstrap_models

    started = time.monotonic()
    trained = routing_bootstrap_models()
    if trained:
        names = ", ".join(f"{r.target} {r.reason}" for r in trained)
        log(f"classifier models trained in {time.monotonic() - started:.1f}s: {names}")


def ensure_search_documents() -> None:
    """Give every generated ticket its search document (issue #19) in one set-based statement:
    the titles come from TITLES, segmented here once each, the numbers and descriptions are
    ASCII (no Chinese to segment); the same vectors `tickets.search` builds one by one."""
    from django.db import connection

    from tickets.search import split_text

    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('tickets_ticketsearchdocument') IS NOT NULL")
        if not cur.fetchone()[0]:
            return
        cur.execute("SELECT EXISTS (SELECT 1 FROM tickets_ticketsearchdocument)")
        if cur.fetchone()[0]:
            return
        started = time.monotonic()
        cur.execute("CREATE TEMP TABLE bench_title_words (title text, chinese text, other text)")
        cur.executemany(
            "INSERT INTO bench_title_words VALUES (%s, %s, %s)",
            [(title, *split_text(title)) for title in TITLES],
        )
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute(
            """
            INSERT INTO tickets_ticketsearchdocument (ticket_id, public, staff)
            SELECT id, p, p FROM (
                SELECT t.id, setweight(to_tsvector('simple', w.chinese)
                        || to_tsvector('english', t.number || ' ' || w.other), 'A')
                    || setweight(to_tsvector('english', t.description), 'B') AS p
                FROM tickets_ticket t JOIN bench_title_words w ON w.title = t.title
            ) docs
            """
        )
        cur.execute("DROP TABLE bench_title_words")
        cur.execute("ANALYZE tickets_ticketsearchdocument")
        log(f"search documents in {time.monotonic() - started:.1f}s")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", "--small", action="store_true")
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--events-per-ticket", type=int, default=common.EVENTS_PER_TICKET)
    parser.add_argument("--force", action="store_true")
    args, _unknown = parser.parse_known_args()
    tickets = args.tickets or (common.QUICK_TICKETS if args.quick else common.FULL_TICKETS)
    name = common.bench_db_name(args.quick)
    wanted = {
        "version": DATASET_VERSION,
        "tickets": tickets,
        "events_per_ticket": args.events_per_ticket,
    }

    marker = read_marker(name)
    common.setup_django(args.quick)
    if marker is not None and not args.force and {k: marker.get(k) for k in wanted} == wanted:
        migrate(args.quick)  # new migrations of other apps still apply to the kept data
        missing = schema_gaps()
        if not missing:
            log(f"{name} already holds {tickets:,} tickets; nothing to generate")
            ensure_search_documents()
            ensure_classifier_models()
            common.emit({"name": "generate", "skipped": True, "database": name, **marker})
            return
        log(f"{name} does not match the models ({', '.join(missing[:5])}): generating again")

    total = time.monotonic()
    log(f"creating {name} for {tickets:,} tickets × {args.events_per_ticket} events")
    from django.db import connection

    connection.close()
    recreate_database(name)
    migrate(args.quick)
    started = time.monotonic()
    ref = create_reference_data()
    reference_s = round(time.monotonic() - started, 1)
    timings = load_bulk(ref, tickets, args.events_per_ticket)
    timings["reference_s"] = reference_s
    timings["vacuum_analyze_s"] = vacuum_analyze()
    log(f"VACUUM ANALYZE in {timings['vacuum_analyze_s']}s")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM tickets_ticket")
        (ticket_count,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM tickets_ticketevent")
        (event_count,) = cur.fetchone()
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        (size,) = cur.fetchone()
    value = {
        **wanted,
        "ticket_rows": ticket_count,
        "event_rows": event_count,
        "database_size": size,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.monotonic() - total, 1),
        **timings,
    }
    write_marker(value)
    ensure_search_documents()
    ensure_classifier_models()
    log(f"done in {value['seconds']}s ({size})")
    common.emit({"name": "generate", "skipped": False, "database": name, **value})


if __name__ == "__main__":
    main()
