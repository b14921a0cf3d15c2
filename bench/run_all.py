"""`make bench`: generate the bench data, run every bench/bench_*.py, print one JSON summary.

    python bench/run_all.py [--quick] [--runs N] [--only NAME[,NAME]] [any bench argument]

Arguments are passed to the generator and to every bench (each takes what it knows; `--quick`
or `--small` works on a 20,000-ticket database for a smoke run).

Trustworthy runs (issue #19): the generated database is never measured on directly; every
bench runs on a fresh copy of it (`<bench db>_run`, CREATE DATABASE ... TEMPLATE), so no part
measures rows an earlier part (or an earlier run) created or changed (`--no-fresh` skips the
copies and measures on the generated database itself). Each
result records the machine's load average before and after it. The previous summary is kept
(`.data/bench/previous.json`) and a comparison with it is printed at the end.

Each bench runs in its own process and prints one JSON object on its last line; a bench
that fails or prints no JSON is reported in the summary with its error, and the others
still run. The summary (also written to .data/bench/last.json) is
`{"machine": ..., "date": ..., "results": {name: {...}}}`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

HERE = Path(__file__).resolve().parent

TIMEOUT_S = int(os.environ.get("BENCH_TIMEOUT_S", "3600"))


def machine() -> dict:
    """What the numbers were measured on."""
    info = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        info["memory_gib"] = round(pages * page_size / 2**30, 1)
    except (ValueError, OSError):
        pass
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    try:
        import psycopg2

        conn = psycopg2.connect(common.server_url())
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            info["postgresql"] = cur.fetchone()[0]
        conn.close()
    except Exception as exc:  # the summary still prints without it
        info["postgresql"] = f"unknown ({type(exc).__name__})"
    return info


def _server():
    import psycopg2

    conn = psycopg2.connect(common.server_url())
    conn.autocommit = True
    return conn


def _copy_database(source: str, target: str) -> float:
    """DROP `target`, CREATE it as a copy of `source` (nobody may be connected to either)."""
    from psycopg2 import sql

    started = time.monotonic()
    conn = _server()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname IN (%s, %s) AND pid <> pg_backend_pid()",
                [source, target],
            )
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(target)))
            cur.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(target), sql.Identifier(source)
                )
            )
    finally:
        conn.close()
    return round(time.monotonic() - started, 1)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _numbers(prefix: str, value, out: dict) -> dict:
    """Flatten the timing numbers of a summary: {"ui.my_tickets.median_ms": 27.1, ...}."""
    if isinstance(value, dict):
        for key, inner in value.items():
            _numbers(f"{prefix}.{key}" if prefix else key, inner, out)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        last = prefix.rsplit(".", 1)[-1]
        skip = last.startswith(("load", "budget", "target"))
        if last.endswith(("_ms", "_s", "per_s")) and not skip:
            out[prefix] = value
    return out


def compare(previous: dict, current: dict) -> list[str]:
    """Lines `name: before → now (±%)` for every timing both runs have."""
    before = _numbers("", previous.get("results", {}), {})
    now = _numbers("", current.get("results", {}), {})
    lines = [
        f"comparison with the run of {previous.get('date', '?')} "
        f"(load {previous.get('machine', {}).get('load_average')}) → "
        f"{current.get('date')} (load {current.get('machine', {}).get('load_average')}):"
    ]
    for key in sorted(set(before) & set(now)):
        old, new = before[key], now[key]
        change = f"{(new - old) / old * 100:+.0f}%" if old else "n/a"
        lines.append(f"  {key}: {old} → {new} ({change})")
    return lines


def last_json(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def run(script: Path, args: list[str], env: dict | None = None) -> tuple[str, dict]:
    """Run one script; return (name, its JSON or an error record)."""
    name = script.stem.removeprefix("bench_")
    common.log(f"run_all: {script.name} {' '.join(args)}".rstrip())
    started = time.monotonic()
    try:
        # stderr goes straight to the terminal: progress is visible while it runs.
        completed = subprocess.run(
            [sys.executable, str(script), *args],
            cwd=common.ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return name, {"error": f"timed out after {TIMEOUT_S}s", "stdout_tail": _tail(exc.stdout)}
    seconds = round(time.monotonic() - started, 1)
    result = last_json(completed.stdout)
    if completed.returncode != 0 or result is None:
        return name, {
            "error": f"exit code {completed.returncode}"
            if completed.returncode
            else "no JSON on the last line",
            "stdout_tail": _tail(completed.stdout),
            "wall_s": seconds,
        }
    result.setdefault("wall_s", seconds)
    return result.pop("name", name), result


def _tail(text: str | bytes | None) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return (text or "")[-2000:]


def main() -> None:
    args = ["--quick" if a == "--small" else a for a in sys.argv[1:]]
    fresh = "--no-fresh" not in args
    args = [a for a in args if a != "--no-fresh"]
    only: set[str] = set()
    if "--only" in args:
        # `--only NAME[,NAME...]`: run these benches (and the generator) only.
        index = args.index("--only")
        only = set(args[index + 1].split(",")) if index + 1 < len(args) else set()
        args = args[:index] + args[index + 2 :]
    summary = {
        "machine": machine(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "args": args,
        "results": {},
    }
    scripts = [HERE / "generate.py", *sorted(HERE.glob("bench_*.py"))]
    database = common.bench_db_name("--quick" in args)
    copy = f"{database}_run"
    for script in scripts:
        if only and script.stem.removeprefix("bench_") not in only | {"generate"}:
            continue
        copy_s, env = None, None
        if fresh and script.stem != "generate":
            # Every bench from the same data: a fresh copy of the generated database (the
            # classifier's model files stay those of the generated one).
            copy_s = _copy_database(database, copy)
            env = {**os.environ, "BENCH_DB_NAME": copy, "BENCH_MODELS_DB": database}
        load_before = _load()
        name, result = run(script, args, env)
        result["load_before"], result["load_after"] = load_before, _load()
        if copy_s is not None:
            result["fresh_copy_s"] = copy_s
        summary["results"][name] = result
        if "error" in result:
            common.log(f"run_all: {script.name} failed: {result['error']}")
    summary["machine"]["load_average_after"] = _load()
    out = common.ROOT / ".data" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(summary, ensure_ascii=False)
    last = out / "last.json"
    if last.exists():
        previous = json.loads(last.read_text())
        (out / "previous.json").write_text(last.read_text())
        for line in compare(previous, summary):
            common.log(line)
    last.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    print(text, flush=True)


if __name__ == "__main__":
    main()
