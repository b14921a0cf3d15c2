"""What one GET costs the web process, in process, through the whole WSGI stack.

`python bench/http_cost.py [--quick] [--requests N] [--profile] [--top 30] [PATH ...]`

The companion of `bench_http.py` (which measures the same URLs over HTTP with wrk): each
request is a WSGI call of Django's handler under the production settings, with the deployed
middleware, signed in as bench_http's agent by a session cookie, as gunicorn makes it. Per
path: this process's CPU (`time.process_time`) per request, the PostgreSQL backend's CPU per
request (read from /proc when the server runs on this machine), the statuses and the SQL
queries of one request; with `--profile`, cProfile's top entries. Paths default to a trivial
page (`/`, the landing redirect), the API list and the API list of one ticket (its fixed part).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

AGENT = "bench-front-1-front_tier1-01"
PATHS = ["/", "/api/tickets/", "/api/tickets/?page_size=1"]


class Get:
    """WSGI calls of `GET path` with a session cookie, as gunicorn makes them."""

    def __init__(self, path: str, cookie: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self.app = WSGIHandler()
        self.path, _, self.query = path.partition("?")
        self.cookie = cookie
        self.statuses: dict[str, int] = {}
        self.size = 0

    def __call__(self) -> None:
        status = []

        def start_response(line, headers, exc_info=None):
            status.append(line.split()[0])

        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": self.path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": self.query,
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "localhost",
            "HTTP_COOKIE": self.cookie,
            "HTTP_ACCEPT": "*/*",
            "HTTP_USER_AGENT": "wrk",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        result = self.app(environ, start_response)
        size = 0
        try:
            for chunk in result:
                size += len(chunk)
        finally:
            if hasattr(result, "close"):
                result.close()  # request_finished: connections and language, as gunicorn does
        self.size = size
        self.statuses[status[0]] = self.statuses.get(status[0], 0) + 1


def session_cookie() -> str:
    from django.conf import settings
    from django.test import Client

    from accounts.models import User

    client = Client(HTTP_HOST="localhost")
    client.force_login(User.objects.get(username=AGENT))
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


def measure(path: str, cookie: str, requests: int, *, profile: bool, top: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = Get(path, cookie)
    for _ in range(20):  # imports, connections, the URL resolver's caches
        call()
    with CaptureQueriesContext(connection) as ctx:
        call()
    queries = [q["sql"] for q in ctx.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_before = common.process_cpu_ms(backend)
    cpu = []
    profiler = cProfile.Profile(time.process_time) if profile else None
    for _ in range(requests):
        if profiler:
            profiler.enable()
        started_cpu = time.process_time()
        call()
        cpu.append((time.process_time() - started_cpu) * 1000)
        if profiler:
            profiler.disable()
    backend_after = common.process_cpu_ms(backend)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        same_backend = cursor.fetchone()[0] == backend
    result: dict[str, Any] = {
        "path": path,
        "requests": requests,
        "statuses": dict(sorted(call.statuses.items())),
        "bytes": call.size,
        "cpu_ms_per_request_median": round(statistics.median(cpu), 3),
        "cpu_ms_per_request_mean": round(statistics.fmean(cpu), 3),
        "queries_per_request": len(queries),
        # The database's side (planning and running the queries), when it runs here and the
        # requests kept one connection (clock ticks: 10 ms resolution over all the requests).
        "db_cpu_ms_per_request": (
            round((backend_after - backend_before) / requests, 3)
            if backend_before is not None and backend_after is not None and same_backend
            else None
        ),
        "queries": queries,
    }
    if profiler:
        result.update(common.profile_texts(profiler, top))
    return result


def main() -> None:
    args = common.parse_args(__doc__.splitlines()[0])
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("paths", nargs="*")
    options = parser.parse_known_args()[0]
    # As bench_http.py's server: production settings, loopback without TLS, no throttling.
    os.environ.update(
        DJANGO_SETTINGS_MODULE="servicedesk.settings.production",
        SECRET_KEY="bench-only-not-secret-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        API_THROTTLE_USER="10000000/minute",
    )
    common.setup_django(args.quick)
    cookie = session_cookie()
    results = []
    for path in [p for p in options.paths if p.startswith("/")] or PATHS:
        result = measure(path, cookie, options.requests, profile=options.profile, top=options.top)
        for key in ("profile_cumulative", "profile_tottime"):
            if key in result:
                print(result.pop(key), file=sys.stderr)
        for sql in result["queries"]:
            common.log(f"{path} query: {sql[:160]}")
        common.log(
            f"{path}: {result['cpu_ms_per_request_median']} ms CPU (median), "
            f"database {result['db_cpu_ms_per_request']} ms CPU (mean), "
            f"{result['queries_per_request']} queries, {result['statuses']}"
        )
        results.append(result)
    common.emit({"name": "http_cost", "results": results})


if __name__ == "__main__":
    main()
