"""The agent's ticket page at scale (issue #19): `python bench/bench_pages.py [--quick]`.

On the database `bench/generate.py` filled, makes one ticket through the services with 20 log
entries and 5 public replies (created, routed, taken, 5 replies, 12 internal notes... as an
agent works), then renders `/workspace/tickets/<number>/` in process (Django's test client:
middleware, view, queries, template) as its assignee: median / p90 ms, the query count, and a
cProfile of 20 renders whose top entries (by own time and by cumulative time) are printed and
recorded, to show where the Python time goes.

`--without-base`: the same with `workspace/base.html` (the navigation, owned apart) replaced by
its content block alone, to tell the page's own cost from the frame's.

Prints one JSON object on its last line.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

AGENT = "bench-front-1-front_tier1-01"
REQUESTER = "bench-user-1"
TARGET_MS = 12


def make_ticket(agent, requester):
    """A ticket with 20 log entries and 5 replies, through the services."""
    from accounts.models import Team
    from tickets import services
    from tickets.models import TicketEvent

    team = Team.objects.get(code="bench-front-1")
    ticket, _created = services.ticket_create(
        requester=requester,
        created_by=agent,
        title="Bench: VPN 连接失败，提示证书过期",
        description="The VPN client says the certificate expired. 证书过期。",
        channel="phone",
    )
    services.ticket_route(ticket_id=ticket.pk, actor=None, tier=team.tier, team=team)
    services.ticket_take(ticket_id=ticket.pk, actor=agent)
    for i in range(5):
        services.comment_add(ticket_id=ticket.pk, actor=agent, body=f"Reply {i}: please retry.")
    while TicketEvent.objects.filter(ticket_id=ticket.pk).count() < 20:
        services.comment_add(
            ticket_id=ticket.pk, actor=agent, body="Checked the gateway logs.", is_internal=True
        )
    ticket.refresh_from_db()
    return ticket


def top(profile: cProfile.Profile, sort: str, count: int = 15) -> list[str]:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.strip_dirs().sort_stats(sort).print_stats(count)
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return [line for line in lines[start : start + count + 1] if line]


def _drop_the_frame() -> None:
    """Render `workspace/base.html` as its content block alone (a template directory searched
    first), so the numbers are the ticket page's own."""
    from django.template import engines

    folder = Path(tempfile.mkdtemp(prefix="bench-pages-")) / "workspace"
    folder.mkdir()
    (folder / "base.html").write_text("{% block content %}{% endblock %}")
    engine = engines["django"].engine
    engine.dirs = [str(folder.parent), *engine.dirs]
    for loader in engine.template_loaders:
        if hasattr(loader, "reset"):
            loader.reset()


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(__doc__.splitlines()[0], argv)
    common.setup_django(args.quick)
    from django.test import Client

    from accounts.models import User
    from tickets.models import Comment, Ticket, TicketEvent

    runs = args.runs or (15 if args.quick else 40)
    without_base = "--without-base" in (argv if argv is not None else sys.argv[1:])
    if without_base:
        _drop_the_frame()
    agent = User.objects.get(username=AGENT)
    ticket = make_ticket(agent, User.objects.get(username=REQUESTER))
    client = Client(HTTP_HOST="localhost")
    client.force_login(agent)
    url = f"/workspace/tickets/{ticket.number}/"

    def get():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response

    timing = common.time_calls(get, runs=runs)
    queries = common.count_queries(get)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(20):
        get()
    profile.disable()
    by_own, by_cumulative = top(profile, "tottime"), top(profile, "cumulative")
    common.log(f"ticket page: {timing['median_ms']} ms median, {queries} queries")
    common.log("top by own time (20 renders):\n" + "\n".join(by_own))
    common.log("top by cumulative time (20 renders):\n" + "\n".join(by_cumulative))
    common.emit(
        {
            "name": "pages",
            "without_base": without_base,
            "tickets": Ticket.objects.count(),
            "ticket_page": {
                **timing,
                "queries": queries,
                "events": TicketEvent.objects.filter(ticket=ticket).count(),
                "replies": Comment.objects.filter(ticket=ticket, is_internal=False).count(),
                "target_ms": TARGET_MS,
                "within_target": timing["median_ms"] <= TARGET_MS,
            },
            "profile_top_own": by_own,
            "profile_top_cumulative": by_cumulative,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
