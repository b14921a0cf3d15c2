"""Agent queue pages at scale (issue #4): `python bench/bench_ui.py [--quick] [--runs N]`.

On the database `bench/generate.py` filled (1,000,000 tickets), renders the workspace's queue
pages in process with Django's test client, signed in as a front-office agent (who also
dispatches): my tickets, my teams' unassigned tickets, the manual triage queue, a filtered and
searched queue, and a deep keyset page. Server time = the whole request through middleware,
view, queries and template. Median / p90 ms and the query count of each page.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

AGENT = "bench-front-1-front_tier1-01"
BUDGET_MS = 150


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(__doc__.splitlines()[0], argv)
    common.setup_django(args.quick)
    from django.test import Client

    from accounts.models import User
    from tickets.models import Ticket

    runs = args.runs or (10 if args.quick else 30)
    agent = User.objects.get(username=AGENT)
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)
    total = Ticket.objects.count()
    # A cursor deep in the "all tickets" queue: the page costs the same as the first one.
    deep_id = Ticket.objects.order_by("-id").values_list("id", flat=True)[20_000:20_001]
    deep_cursor = str(deep_id[0]) if deep_id else ""
    pages = {
        "my_tickets": "/workspace/",
        "team_unassigned": "/workspace/queue/team/",
        "triage": "/workspace/queue/triage/",
        "team_filtered": "/workspace/queue/team/?priority=P2&sort=priority",
        "all_search": "/workspace/queue/all/?q=VPN",
        "all_deep_page": f"/workspace/queue/all/?after={deep_cursor}",
    }
    result: dict = {"name": "ui", "tickets": total, "agent": AGENT, "budget_ms": BUDGET_MS}
    for key, url in pages.items():

        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        rows = get().content.count(b"<tr data-href=")
        timing = common.time_calls(get, runs=runs)
        queries = common.count_queries(get)
        common.log(f"{key}: {timing['median_ms']} ms median, {queries} queries, {rows} rows")
        result[key] = {**timing, "queries": queries, "rows": rows}
    result["max_median_ms"] = max(v["median_ms"] for v in result.values() if isinstance(v, dict))
    result["within_budget"] = result["max_median_ms"] <= BUDGET_MS
    common.emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
