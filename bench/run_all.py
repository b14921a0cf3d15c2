"""`make bench`: generate the bench data, run every bench/bench_*.py, print one JSON summary.

    python bench/run_all.py [--quick] [--runs N] [--only NAME[,NAME]] [any bench argument]

Arguments are passed to the generator and to every bench (each takes what it knows; `--quick`
works on a 20,000-ticket database for a smoke run). Each bench runs in its own process and
prints one JSON object on its last line; a bench that fails or prints no JSON is reported in
the summary with its error, and the others still run. The summary (also written to
.data/bench/last.json) is `{"machine": ..., "date": ..., "results": {name: {...}}}`.
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


def last_json(stdout: str) -> dict | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def run(script: Path, args: list[str]) -> tuple[str, dict]:
    """Run one script; return (name, its JSON or an error record)."""
    name = script.stem.removeprefix("bench_")
    common.log(f"run_all: {script.name} {' '.join(args)}".rstrip())
    started = time.monotonic()
    try:
        # stderr goes straight to the terminal: progress is visible while it runs.
        completed = subprocess.run(
            [sys.executable, str(script), *args],
            cwd=common.ROOT,
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
    args = sys.argv[1:]
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
    for script in scripts:
        if only and script.stem.removeprefix("bench_") not in only | {"generate"}:
            continue
        name, result = run(script, args)
        summary["results"][name] = result
        if "error" in result:
            common.log(f"run_all: {script.name} failed: {result['error']}")
    summary["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    out = common.ROOT / ".data" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(summary, ensure_ascii=False)
    (out / "last.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    print(text, flush=True)


if __name__ == "__main__":
    main()
