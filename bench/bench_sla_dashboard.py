"""The SLA dashboard at scale (issue #19 item 4): `python bench/bench_sla_dashboard.py [--runs N]`.

Renders `/workspace/dashboard/` in process (the whole response) for the administrator and a
unit manager, for periods of 7, 30 and 365 days ending today. The generated desk has no SLA
timers: fill the bench copy first (docs/benchmarks.md, issue #19, gives the INSERT … SELECT
that adds one resolution timer per ticket, 300,000 of them running). Median / min ms, this
process's CPU ms and the query count of each page. Prints one JSON object on its last line.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

VIEWERS = {"admin": "bench-admin", "manager": "bench-manager-1"}
PERIODS = (7, 30, 365)
BUDGET_MS = 100


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(__doc__.splitlines()[0], argv)
    common.setup_django(args.quick)
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from sla.models import SlaTimer

    runs = args.runs or (5 if args.quick else 15)
    today = timezone.localdate()
    result: dict = {"name": "sla_dashboard", "timers": SlaTimer.objects.count()}
    result["running_timers"] = SlaTimer.objects.filter(state="running").count()
    for who, username in VIEWERS.items():
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=username))
        for days in PERIODS:
            start = today - timedelta(days=days - 1)
            url = f"/workspace/dashboard/?date_from={start}&date_to={today}"

            def get(url=url, client=client):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response

            timing = common.time_calls(get, runs=runs, warmup=1)
            queries = common.count_queries(get)
            key = f"{who}_{days}d"
            common.log(f"{key}: {timing['median_ms']} ms median, {queries} queries")
            result[key] = {**timing, "queries": queries}
    medians = [v["median_ms"] for v in result.values() if isinstance(v, dict)]
    result["max_median_ms"] = max(medians)
    result["within_budget"] = result["max_median_ms"] <= BUDGET_MS
    common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
