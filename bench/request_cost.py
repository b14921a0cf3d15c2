"""What one `POST /api/tickets/` costs the web process, in process, through the whole WSGI stack.

`python bench/request_cost.py [--quick] [--requests N] [--profile] [--top 30]`

Each request is a WSGI call of Django's handler with the deployed middleware, as gunicorn makes
it (a requester's token, a JSON body, the response body read and closed): this process's CPU
(`time.process_time`) and wall time per request, the SQL queries of one request and, when
PostgreSQL runs on this machine, the CPU its server process for this connection spent per
request (`db_cpu_ms_per_request_mean`, from /proc: the database's share of the cores). With
`--profile`, cProfile's top entries by cumulative and by own time over the timed requests.
`bench_tickets.py --parts create` records the same numbers (`create_request`). The intake
reactions stay queued (no worker here): what is measured is the web tier's share alone.

Written to run unchanged on older commits too (to compare where the CPU went): it needs only
`POST /api/tickets/`, DRF's token model and a requester, which it creates on an empty desk.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

REQUESTER = "bench-user-1"


def requester_token() -> str:
    """The token of a requester of the bench desk (created on an empty desk)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    user = user_model.objects.filter(username=REQUESTER).first()
    if user is None:
        user = user_model.objects.create_user(username=REQUESTER, password=None)
        # The requesters' role, as the migrations define it.
        user.groups.set(Group.objects.filter(name="requester"))
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


class CreateRequests:
    """WSGI calls of `POST /api/tickets/` as gunicorn makes them."""

    def __init__(self, token: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.app = WSGIHandler()
        self.token = token
        self.counter = 0
        self.statuses: dict[str, int] = {}

    def environ(self) -> dict[str, Any]:
        self.counter += 1
        body = json.dumps(
            {
                "title": f"VPN cannot connect from home (in-process {self.counter})",
                "description": "Since this morning the VPN client says the certificate "
                "expired. 从今天早上开始 VPN 提示证书过期。",
            }
        ).encode()
        return {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/tickets/",
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_AUTHORIZATION": f"Token {self.token}",
            "HTTP_ACCEPT": "*/*",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }

    def __call__(self) -> None:
        status = []

        def start_response(line, headers, exc_info=None):
            status.append(line.split()[0])

        result = self.app(self.environ(), start_response)
        try:
            for _chunk in result:
                pass
        finally:
            if hasattr(result, "close"):
                result.close()  # request_finished: connections and language, as gunicorn does
        self.statuses[status[0]] = self.statuses.get(status[0], 0) + 1


def measure(
    requests: int, *, profile: bool = False, top: int = 30, dump: str = ""
) -> dict[str, Any]:
    """CPU and wall per request over `requests` creations after 20 untimed ones, and the
    queries of one; with `profile`, cProfile's top entries too."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = CreateRequests(requester_token())
    connection.close()  # as a web worker starts: no connection held from the set-up
    for _ in range(20):  # imports, connections, the URL resolver's caches
        call()
    with CaptureQueriesContext(connection) as ctx:
        call()
    queries = [q["sql"] for q in ctx.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    backend_before = common.process_cpu_ms(backend)
    cpu, wall = [], []
    # CPU time, not wall: the database and Redis waits are not this process's work.
    profiler = cProfile.Profile(time.process_time) if profile else None
    for _ in range(requests):
        if profiler:
            profiler.enable()
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
        if profiler:
            profiler.disable()
    backend_after = common.process_cpu_ms(backend)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend_now,) = cursor.fetchone()
    result: dict[str, Any] = {
        "requests": requests,
        "statuses": dict(sorted(call.statuses.items())),
        "cpu_ms_per_request_median": round(statistics.median(cpu), 3),
        "cpu_ms_per_request_mean": round(statistics.fmean(cpu), 3),
        "wall_ms_per_request_median": round(statistics.median(wall), 3),
        "queries_per_request": len(queries),
    }
    if None not in (backend_before, backend_after) and backend_now == backend:
        # The database's share of the same two cores (its server process for this connection;
        # clock ticks, so only a mean over many requests means anything).
        result["db_cpu_ms_per_request_mean"] = round((backend_after - backend_before) / requests, 3)
    if profiler and dump:
        profiler.dump_stats(dump)  # for pstats or snakeviz
    if profiler:
        result.update(common.profile_texts(profiler, top))
    result["queries"] = queries
    return result


def main() -> None:
    args = common.parse_args(__doc__.splitlines()[2])
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--dump", default="", help="write the profile's stats to this file")
    options = parser.parse_known_args()[0]
    common.setup_django(args.quick)
    result = measure(
        options.requests,
        profile=options.profile or bool(options.dump),
        top=options.top,
        dump=options.dump,
    )
    for key in ("profile_cumulative", "profile_tottime"):
        if key in result:
            print(result.pop(key), file=sys.stderr)
    for sql in result["queries"]:
        common.log(f"query: {sql[:200]}")
    common.emit({"name": "request_cost", **result})


if __name__ == "__main__":
    main()
