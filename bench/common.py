"""Shared helpers of the benchmarks: which database, Django set-up, timing, the JSON last line.

The benchmarks never touch the development database: they run on a separate database on the
same server (`servicedesk_bench`, or `servicedesk_bench_quick` for a `--quick` smoke run),
which `bench/generate.py` fills.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EMBEDDED_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/servicedesk"
EMBEDDED_REDIS_URL = "redis://127.0.0.1:63799/0"

# Full size (issue #3) and the smoke-run size of `--quick`.
FULL_TICKETS = 1_000_000
QUICK_TICKETS = 20_000
EVENTS_PER_TICKET = 3


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments every bench script accepts (run_all passes its own through)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick",
        "--small",
        action="store_true",
        help="smoke run on a small database (20,000 tickets)",
    )
    parser.add_argument("--runs", type=int, default=None, help="timed runs per measurement")
    args, _unknown = parser.parse_known_args(argv)
    return args


def bench_db_name(quick: bool) -> str:
    return os.environ.get("BENCH_DB_NAME") or (
        "servicedesk_bench_quick" if quick else "servicedesk_bench"
    )


def server_url() -> str:
    """The server's URL as the embedded services (or a deployment) give it, before
    `setup_django` pointed DATABASE_URL at the bench database."""
    return (
        os.environ.get("BENCH_SERVER_URL")
        or os.environ.get("DATABASE_URL")
        or EMBEDDED_DATABASE_URL
    )


def database_url(name: str) -> str:
    """The same server as DATABASE_URL, another database."""
    parts = urlsplit(server_url())
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def redis_url() -> str:
    """The server's Redis, database BENCH_REDIS_DB (10 unless set)."""
    parts = urlsplit(os.environ.get("REDIS_URL") or EMBEDDED_REDIS_URL)
    db = os.environ.get("BENCH_REDIS_DB", "10")
    return urlunsplit((parts.scheme, parts.netloc, "/" + db, parts.query, parts.fragment))


def bench_env(quick: bool) -> dict[str, str]:
    """Environment for a subprocess (manage.py, gunicorn) working on the bench database."""
    env = dict(os.environ)
    env["BENCH_SERVER_URL"] = server_url()
    env["DATABASE_URL"] = database_url(bench_db_name(quick))
    # Its own Redis database: queued tasks of bench tickets never reach a dev worker.
    env["REDIS_URL"] = redis_url()
    # The bench desk's classifier models live apart from the development desk's.
    # (A fresh copy made by run_all uses the files of the database it was copied from.)
    models_db = os.environ.get("BENCH_MODELS_DB") or bench_db_name(quick)
    env["CLASSIFIER_MODEL_DIR"] = str(ROOT / ".data" / "bench" / f"models-{models_db}")
    env.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings.local")
    # Debug mode keeps every query in memory and renders debug pages: never measure that.
    env["DEBUG"] = "false"
    return env


def setup_django(quick: bool) -> None:
    """Point Django at the bench database, then set it up (must run before model imports)."""
    os.environ.update(bench_env(quick))
    import django

    django.setup()


def time_calls(fn: Callable[[], Any], *, runs: int, warmup: int = 3) -> dict[str, float]:
    """Run `fn` `warmup` times untimed, then `runs` times; return median / p90 / min in ms."""
    for _ in range(warmup):
        fn()
    samples, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.9))], 2),
        "min_ms": round(samples[0], 2),
        # This process's own CPU time (Python, not the database): less sensitive to other
        # load on the machine than the wall clock.
        "python_cpu_median_ms": round(statistics.median(cpu), 2),
        "runs": runs,
    }


def count_queries(fn: Callable[[], Any]) -> int:
    """How many SQL queries one call of `fn` makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def process_cpu_ms(pid: int) -> float | None:
    """CPU time (user + system, ms) process `pid` has used so far, from Linux's /proc (fields
    14 and 15 of stat(5), in clock ticks); None where it is not on this machine or not
    readable (a PostgreSQL backend of a remote server)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def profile_texts(profiler, top: int) -> dict[str, str]:
    """A cProfile run's top entries by cumulative and by own time, as pstats prints them."""
    import io
    import pstats

    texts = {}
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        texts[f"profile_{order}"] = out.getvalue()
    return texts


def emit(result: dict[str, Any]) -> None:
    """The one JSON object on the last line that run_all collects."""
    print(json.dumps(result, ensure_ascii=False, default=str), flush=True)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
