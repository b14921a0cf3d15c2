"""The report pages about now rather than a period (at risk and breached) and the ones built
from the beat jobs' snapshots (repeated problems, spikes and the release calendar)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from . import selectors as s
from .selectors import ReportFilters
from .tables import Drill, Table, chart

# --- at risk and breached (live: these are about now, not the period) --------------------------


def page_risk(viewer: User, filters: ReportFilters) -> list[Table]:
    from sla.selectors import filter_queue
    from tickets.selectors import TicketFilters, apply_filters, visible_tickets

    tickets = apply_filters(
        visible_tickets(viewer),
        TicketFilters(
            open_only=True,
            priority=[filters.priority] if filters.priority else [],
            team=[filters.team] if filters.team else [],
            tier=[filters.tier] if filters.tier else [],
            system=[filters.system] if filters.system else [],
            unit=filters.unit,
        ),
    )
    drill = Drill(filters)
    tables = []
    for which, title in (("breached", _("Breached")), ("at_risk", _("At risk"))):
        queue = filter_queue(tickets, which)
        count = queue.count()
        table = Table(
            f"risk-{which}",
            f"{title} ({count})",
            [_("Ticket"), _("Title"), _("Priority"), _("Team"), _("Assignee"), _("Created")],
            note=drill(which),
        )
        for ticket in queue.select_related("team", "assignee").order_by("id")[:50]:
            table.add(
                [
                    ticket.number,
                    ticket.title,
                    ticket.priority,
                    ticket.team.label if ticket.team else "—",
                    str(ticket.assignee) if ticket.assignee else "—",
                    timezone.localtime(ticket.created_at).strftime("%Y-%m-%d %H:%M"),
                ],
                reverse("workspace:ticket", args=[ticket.number]),
            )
        tables.append(table)
    return tables


# --- repeated problems and spikes ----------------------------------------------------------------


def page_problems(viewer: User, filters: ReportFilters) -> list[Table]:
    period = 7 if filters.days <= 7 else 30
    table = Table(
        "problems-top",
        _("Top 10 repeated problems of the last %(days)s days") % {"days": period},
        [
            _("Rank"),
            _("Problem"),
            _("Category"),
            _("System"),
            _("Tickets"),
            _("Previous period"),
            _("Trend"),
        ],
    )
    if s.viewer_scope(viewer, filters) is not None:
        table.note = _("Repeated problems are computed over the whole desk.")
        return [table]
    for problem in s.repeated_problems(period_days=period):
        trend = problem.count - problem.previous_count
        table.add(
            [
                problem.rank,
                problem.title,
                problem.category.label if problem.category else "—",
                problem.system.label if problem.system else "—",
                problem.count,
                problem.previous_count,
                f"{trend:+d}",
            ],
            Drill(filters)(system_id=problem.system_id) if problem.system_id else None,
        )
    table.chart = chart(
        "bar", [r[1][:30] for r in table.rows], [(_("Tickets"), [r[4] for r in table.rows])]
    )
    return [table]


def page_spikes(viewer: User, filters: ReportFilters) -> list[Table]:
    from .models import Release

    drill = Drill(filters)
    spikes = Table(
        "spikes",
        _("Spikes of a request type after a release"),
        [
            _("Day"),
            _("Request type"),
            _("System"),
            _("Tickets"),
            _("Baseline"),
            _("Score"),
            _("Preceding release"),
        ],
    )
    for spike in s.spikes(filters=filters):
        release = (
            f"{spike.release.system.label} {spike.release.version} ({spike.release.released_on})"
            if spike.release
            else "—"
        )
        spikes.add(
            [
                spike.day.isoformat(),
                spike.request_type.label,
                spike.system.label if spike.system else "—",
                spike.count,
                round(spike.baseline, 1),
                round(spike.score, 1),
                release,
            ],
            drill(request_type_id=spike.request_type_id, system_id=spike.system_id),
        )
    spikes.chart = chart(
        "bar",
        [f"{r[0]} {r[1]}" for r in spikes.rows],
        [(_("Tickets"), [r[3] for r in spikes.rows])],
    )
    releases = Table(
        "releases", _("Release calendar"), [_("Released on"), _("System"), _("Version"), _("Notes")]
    )
    for release in Release.objects.select_related("system").filter(
        released_on__gte=filters.date_from, released_on__lte=filters.date_to
    )[:100]:
        releases.add(
            [release.released_on.isoformat(), release.system.label, release.version, release.notes]
        )
    return [spikes, releases]
