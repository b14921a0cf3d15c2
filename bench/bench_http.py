"""HTTP throughput (issue #19): `python bench/bench_http.py [--quick] [--duration S]`.

gunicorn (2 workers × 4 threads, production settings, static files collected) on loopback
against the bench database, then Debian's `wrk` for DURATION seconds (30 by default) per URL:
the agent's queue page, the agent's ticket page and the API list, signed in by a session
cookie. Records requests/s and p50/p99 latency. Without `wrk` it says how to install it
(`apt-get install wrk`) and records that it was skipped.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

AGENT = "bench-front-1-front_tier1-01"
TARGETS_RPS = {"queue": 300, "ticket": 300, "api_list": 500}
INSTALL = "apt-get install wrk"
SESSION_SNIPPET = """
from django.conf import settings
from django.test import Client
from accounts.models import User
client = Client(HTTP_HOST="localhost")
client.force_login(User.objects.get(username=%r))
name = settings.SESSION_COOKIE_NAME
print(f"{name}={client.cookies[name].value}")
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (to the login page) is an answer to report, not to follow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_wrk(output: str) -> dict:
    """Requests/s and the latency percentiles of `wrk --latency` output."""
    result: dict = {}
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["requests_per_s"] = float(match.group(1)) if match else None
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        result[f"p{pct}_ms"] = (
            round(float(match.group(1)) * units[match.group(2)], 2) if match else None
        )
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(match.group(1)) if match else 0
    return result


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(__doc__.splitlines()[0], argv)
    duration = 30
    if argv is None and "--duration" in sys.argv:
        duration = int(sys.argv[sys.argv.index("--duration") + 1])
    wrk = shutil.which("wrk")
    if wrk is None:
        common.log(f"wrk is not installed; install it with: {INSTALL}")
        common.emit({"name": "http", "skipped": f"wrk not installed ({INSTALL})"})
        return 0
    common.setup_django(args.quick)
    from accounts.models import User
    from tickets.selectors import visible_tickets

    agent = User.objects.get(username=AGENT)
    number = (
        visible_tickets(agent)
        .filter(assignee=agent)
        .order_by("-id")
        .values_list("number", flat=True)
        .first()
    )
    env = common.bench_env(args.quick)
    env.update(
        DJANGO_SETTINGS_MODULE="servicedesk.settings.production",
        SECRET_KEY="bench-only-not-secret-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        # wrk is one account asking thousands of times a minute: the per-person API limit
        # (3,000/minute) would answer most of it with 429s, measuring the throttle, not the list.
        API_THROTTLE_USER="10000000/minute",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=common.ROOT,
        env=env,
        check=True,
    )
    # The session is signed with the production settings' key: made by a manage.py of its own.
    cookie = (
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SESSION_SNIPPET % AGENT],
            cwd=common.ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "servicedesk.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            # As docker-compose's web: a socket per worker, so wrk's 8 kept-alive connections
            # are spread by the kernel, not taken by whichever worker woke first.
            "--reuse-port",
            "--log-level",
            "warning",
        ],
        cwd=common.ROOT,
        env=env,
        start_new_session=True,
    )
    urls = {
        "queue": "/workspace/queue/team/",
        "ticket": f"/workspace/tickets/{number}/",
        "api_list": "/api/tickets/",
    }
    result: dict = {"name": "http", "duration_s": duration, "agent": AGENT, "targets": TARGETS_RPS}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        for key, path in urls.items():
            url = f"http://127.0.0.1:{port}{path}"
            common_args = ["-H", f"Cookie: {cookie}", "-H", "Host: localhost"]
            # wrk counts redirects as successes: the page itself must answer 200 first.
            request = urllib.request.Request(url, headers={"Cookie": cookie, "Host": "localhost"})
            with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as response:
                status = response.status
            if status != 200:
                raise SystemExit(f"{url} answered {status}, not 200")
            # Warm each worker (imports, template caches) before measuring.
            subprocess.run([wrk, "-t2", "-c4", "-d3s", *common_args, url], capture_output=True)
            completed = subprocess.run(
                [wrk, "-t2", "-c8", f"-d{duration}s", "--latency", *common_args, url],
                capture_output=True,
                text=True,
                check=False,
            )
            measured = parse_wrk(completed.stdout)
            measured["load_after"] = [round(x, 2) for x in os.getloadavg()]
            rps = measured["requests_per_s"] or 0
            measured["meets_target"] = rps >= TARGETS_RPS[key] and not measured["non_2xx"]
            common.log(f"{key}: {measured}")
            result[key] = measured
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
