"""The same bench for an earlier revision and this checkout, alternately, on this machine.

    python bench/ab.py --base REV [--bench tickets|sla] [--rounds 3]

"Neither may fall more than 10 % from today's figures" compares two revisions, and a figure
recorded on another day may come from another machine: the 267.7 tickets/s and 10.7 s the
issues quote were measured on an Intel Xeon on 2026-11-22; the 2-core AMD EPYC machines of
later sessions run that same revision at 148–161 tickets/s and 16.8–20.6 s. This script
measures both revisions here, one run after the other, so the machine's speed (which drifts by
half within an hour on a shared host) weighs on both alike.

The base revision is checked out as a git worktree under `.data/ab/REV` with its own virtual
environment (its own `make install`) and its own generated desk (its own `bench/generate.py`,
database `ab_REV`, made once). Each run then works on a fresh copy of its side's desk, with
that side's own bench script (`bench_tickets.py --parts create` or `bench_sla.py`): each
revision is measured doing what it did. One thing is aligned: both sides' SLA benches deliver
e-mail through the same sink (`bench/mailsink.py`; the base's copy of `bench_sla.py` is
pointed at it). Prints one JSON object on its last line: every run's
figure with the load before it, each side's median, and head ÷ base.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

ROOT = common.ROOT
BENCHES = {
    # bench name → (script and arguments, the figure, higher is better)
    "tickets": (["bench/bench_tickets.py", "--parts", "create"], "tickets_per_s", True),
    "sla": (["bench/bench_sla.py"], "breach_end_to_end_s", False),
}

EXTRA = ("breach_escalated_s", "worker_cpu_s", "db_cpu_s", "load_after")


def run(cmd: list[str], *, cwd: Path, env: dict | None = None) -> str:
    completed = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{completed.stderr[-3000:]}")
    return completed.stdout


def psql(sql: str, params: tuple = ()) -> list:
    import psycopg2

    conn = psycopg2.connect(common.server_url())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


def prepare_base(rev: str) -> Path:
    """The base revision's worktree, with its venv installed."""
    tree = ROOT / ".data" / "ab" / rev
    if not (tree / ".git").exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT)
    align_mail_sink(tree)
    if not (tree / ".venv" / ".installed").exists():
        common.log(f"installing {rev}'s environment (its own make install)")
        run(["make", "install"], cwd=tree)
    return tree


# The base's SLA bench may still send its e-mail to Django's locmem backend, which keeps a deep
# copy of each message for tests; this checkout's bench writes each one as the SMTP backend
# does and drops it (bench/mailsink.py). Both sides deliver through the same sink: the base's
# copy of the bench script (not its product code) is pointed at it.
_LOCMEM = '"django.core.mail.backends.locmem.EmailBackend"'
_SINK = '"bench.mailsink.SerializingSink"'


def align_mail_sink(tree: Path) -> None:
    script = tree / "bench" / "bench_sla.py"
    if not script.exists():
        return
    if _LOCMEM in script.read_text():
        script.write_text(script.read_text().replace(_LOCMEM, _SINK))
    if _SINK in script.read_text():  # this checkout's sink, refreshed on every run
        shutil.copyfile(ROOT / "bench" / "mailsink.py", tree / "bench" / "mailsink.py")


def template(side: str, tree: Path, rev: str, env: dict) -> str:
    """The side's generated desk, made by that side's own generator if missing: the base's
    `ab_REV`, this checkout's usual bench database."""
    name = f"ab_{rev}" if side == "base" else common.bench_db_name(False)
    if not psql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)):
        common.log(f"generating the {side}'s desk with its own generator (database {name})")
        run(
            [str(tree / ".venv/bin/python"), "bench/generate.py"],
            cwd=tree,
            env={**env, "BENCH_DB_NAME": name},
        )
    return name


def one_run(side: str, tree: Path, source: str, bench: str, env: dict) -> dict:
    copy = f"ab_run_{side}"
    psql(f'DROP DATABASE IF EXISTS "{copy}"')
    # FILE_COPY: the default strategy (WAL_LOG) writes the whole 1.5 GB desk into the WAL,
    # and the checkpoints that volume forces then ran during the measured run, on whichever
    # side came next. A checkpoint before each run starts both sides from the same state (no
    # dirty pages, every first change of a page after it written whole to the WAL).
    psql(f'CREATE DATABASE "{copy}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    psql("CHECKPOINT")
    models = tree / ".data" / "bench"
    shutil.rmtree(models / f"models-{copy}", ignore_errors=True)
    if (models / f"models-{source}").exists():
        shutil.copytree(models / f"models-{source}", models / f"models-{copy}")
    script, figure, _higher = BENCHES[bench]
    load = round(os.getloadavg()[0], 2)
    started = time.strftime("%H:%M:%S", time.gmtime())
    try:
        out = run(
            [str(tree / ".venv/bin/python"), *script],
            cwd=tree,
            env={**env, "BENCH_DB_NAME": copy, "BENCH_MODELS_DB": copy},
        )
    finally:
        psql(f'DROP DATABASE IF EXISTS "{copy}"')
        shutil.rmtree(models / f"models-{copy}", ignore_errors=True)
    result = json.loads(out.strip().splitlines()[-1])
    value = result.get(figure)
    if value is None:  # the creation figure sits under its part
        value = (result.get("create") or result.get("create_http") or {}).get(figure)
    common.log(f"{side} {bench}: {figure} = {value} (load {load} before, {started} UTC)")
    # What the run's CPU went to, where the bench reports it: a slow run with the same CPU
    # waited (locks, the machine), one with more CPU worked more.
    extra = {k: result[k] for k in EXTRA if result.get(k) is not None}
    return {"side": side, "at": started, "load_before": load, figure: value, **extra}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the earlier revision (a commit)")
    parser.add_argument("--bench", choices=sorted(BENCHES), default="tickets")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    rev = run(["git", "rev-parse", "--short", options.base], cwd=ROOT).strip()
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.setdefault("BENCH_REDIS_DB", "11")
    tree = prepare_base(rev)
    sides = {"base": tree, "head": ROOT}
    sources = {side: template(side, path, rev, env) for side, path in sides.items()}
    runs = []
    for _round in range(options.rounds):
        for side, path in sides.items():
            runs.append(one_run(side, path, sources[side], options.bench, env))
    _script, figure, higher = BENCHES[options.bench]
    medians = {
        side: statistics.median(r[figure] for r in runs if r["side"] == side and r[figure])
        for side in sides
    }
    ratio = medians["head"] / medians["base"]
    common.emit(
        {
            "name": "ab",
            "bench": options.bench,
            "base": rev,
            "head": run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT).strip(),
            "figure": figure,
            "higher_is_better": higher,
            "runs": runs,
            "median": medians,
            "head_over_base": round(ratio, 3),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
