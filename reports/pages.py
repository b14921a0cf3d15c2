"""The report pages as data: each page is a list of tables, each table with its chart.

A page builder takes the viewer and the filters and returns `Table`s; the view renders them
(chart above, table below, export links) and the exports write the same rows, so what a manager
downloads is exactly what the page shows.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Avg, Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import Tier
from accounts.models import User
from tickets.choices import OPEN_STATUSES, Priority, Status

from . import selectors as s
from .pages_lists import page_problems, page_risk, page_spikes
from .selectors import ReportFilters
from .tables import Drill, Table, _bucket_label, _label, chart, hours, pct

# What each page reads from the rollups (reports.selectors.rollup_sets): only these groupings
# and counters are computed, in one scan.
SLA_COUNTERS = ("fr_met", "fr_breached", "res_met", "res_breached", "pu_met", "pu_breached")
OLA_COUNTERS = tuple(
    f"{prefix}_{tier}"
    for tier in ("front", "middle", "back")
    for prefix in ("in", "seconds", "ola_breached")
)
HOME_KEYS = ("bucket", "priority")
HOME_COUNTERS = (
    *SLA_COUNTERS,
    "created",
    "resolved",
    "res_seconds",
    "res_count",
    "rating_sum",
    "rating_count",
    "first_contact",
    "reopened",
)
RATE_COUNTERS = (
    "created",
    "resolved",
    "first_contact",
    "front_resolved",
    "reopened",
    "escalated_from_front",
    "escalated_from_middle",
    *OLA_COUNTERS,
)


# --- SLA compliance ----------------------------------------------------------------------------

SLA_KEYS = (
    ("fr", gettext_lazy("First response")),
    ("res", gettext_lazy("Resolution")),
    ("pu", gettext_lazy("Progress update")),
)


def _sla_columns(first: str) -> list[str]:
    columns = [first]
    for _key, name in SLA_KEYS:
        columns += [f"{name}: {_('met')}", f"{name}: {_('breached')}", f"{name}: %"]
    return columns


def _sla_values(row: dict) -> list:
    values = []
    for key, _name in SLA_KEYS:
        met, breached = row[f"{key}_met"], row[f"{key}_breached"]
        values += [met, breached, pct(met, met + breached)]
    return values


def _sla_table(slug, title, rows, key, labels, drill, chart_kind="bar") -> Table:
    table = Table(slug, title, _sla_columns(title))
    for row in rows:
        if not any(row[f"{k}_met"] + row[f"{k}_breached"] for k, _n in SLA_KEYS):
            continue
        label = _label(labels, row[key]) if key != "bucket" else _bucket_label(row[key], "")
        link = drill(**{key: row[key]}) if key != "bucket" and row[key] not in (None, "") else None
        table.add([label, *_sla_values(row)], link)
    table.chart = chart(
        chart_kind,
        [r[0] for r in table.rows],
        [(name, [r[3 + 3 * i] for r in table.rows]) for i, (_k, name) in enumerate(SLA_KEYS)],
        percent=True,
    )
    return table


def page_sla(viewer: User, filters: ReportFilters) -> list[Table]:
    drill = Drill(filters)
    sets = s.rollup_sets(
        viewer=viewer,
        filters=filters,
        keys=("priority", "team_id", "tier", "unit_id", "bucket"),
        counters=(*SLA_COUNTERS, *OLA_COUNTERS),
    )
    tables = []
    for key, title in (
        ("priority", _("Per priority")),
        ("team_id", _("Per team")),
        ("tier", _("Per tier")),
        ("unit_id", _("Per unit")),
    ):
        rows = sets[key]
        labels = s.labels_for(key, [r[key] for r in rows], filters=filters)
        tables.append(_sla_table(f"sla-{key}", title, rows, key, labels, drill))
    trend = sets["bucket"]
    table = _sla_table("sla-trend", _("Over time"), trend, "bucket", {}, drill, "line")
    tables.append(table)
    tables.append(_ola_table(sets[""][0], drill))
    return tables


def _ola_table(total: dict, drill: Drill) -> Table:
    table = Table(
        "ola-tier",
        _("Where time was spent: OLA per tier"),
        [
            _("Tier"),
            _("Tickets with a finished stint"),
            _("Mean business hours"),
            _("OLA breached"),
            _("OLA met %"),
        ],
    )
    for tier, label in Tier.choices:
        n = total[f"in_{tier}"]
        breached = total[f"ola_breached_{tier}"]
        mean = hours(total[f"seconds_{tier}"] / n) if n else None
        table.add([str(label), n, mean, breached, pct(n - breached, n)], drill(tier=tier))
    table.chart = chart(
        "bar", [r[0] for r in table.rows], [(_("Mean business hours"), [r[2] for r in table.rows])]
    )
    return table


# --- first response and resolution times -------------------------------------------------------


def _times_table(slug, title, fr_sets, res_sets, key, drill) -> Table:
    fr = {r.get(key): r for r in fr_sets[key or ""]}
    res = {r.get(key): r for r in res_sets[key or ""]}
    keys = sorted({*fr, *res}, key=lambda k: (k is None, str(k)))
    labels = s.labels_for(key, keys, filters=drill.filters) if key else {}
    columns = [title]
    for name in (_("First response"), _("Resolution")):
        columns += [f"{name}: n", f"{name}: {_('mean h')}", f"{name}: {_('median h')}"]
        columns += [f"{name}: {_('p90 h')}"]
    table = Table(slug, title, columns)
    for k in keys:
        values = [_label(labels, k) if key else _("All")]
        for stats in (fr.get(k), res.get(k)):
            if stats:
                values += [stats["n"], *(hours(stats[m]) for m in ("mean", "median", "p90"))]
            else:
                values += [0, None, None, None]
        table.add(values, drill(**{key: k}) if key and k not in (None, "") else drill())
    table.chart = chart(
        "bar",
        [r[0] for r in table.rows],
        [
            (_("Resolution: median h"), [r[7] for r in table.rows]),
            (_("Resolution: p90 h"), [r[8] for r in table.rows]),
        ],
    )
    return table


def page_times(viewer: User, filters: ReportFilters) -> list[Table]:
    base = s.facts(viewer=viewer, filters=filters)
    created = base.filter(created_day__gte=filters.date_from, created_day__lte=filters.date_to)
    resolved = base.filter(resolved_day__gte=filters.date_from, resolved_day__lte=filters.date_to)
    drill = Drill(filters)
    keys = ("priority", "team_id", "request_type_id")
    fr = s.time_sets(created, "first_response_seconds", keys)
    res = s.time_sets(
        resolved, "resolution_seconds", keys, bucket_of="resolved_day", grain=filters.grain
    )
    tables = [
        _times_table("times-all", _("All tickets"), fr, res, None, drill),
        _times_table("times-priority", _("Per priority"), fr, res, "priority", drill),
        _times_table("times-team", _("Per team"), fr, res, "team_id", drill),
        _times_table("times-type", _("Per request type"), fr, res, "request_type_id", drill),
    ]
    trend = res["bucket"]
    table = Table(
        "times-trend",
        _("Resolution time over time (MTTR)"),
        [_("Period"), "n", _("mean h"), _("median h"), _("p90 h")],
    )
    for row in trend:
        table.add(
            [
                _bucket_label(row["bucket"], filters.grain),
                row["n"],
                *(hours(row[m]) for m in ("mean", "median", "p90")),
            ]
        )
    table.chart = chart(
        "line",
        [r[0] for r in table.rows],
        [(c, [r[i] for r in table.rows]) for i, c in ((2, _("mean h")), (3, _("median h")))]
        + [(_("p90 h"), [r[4] for r in table.rows])],
    )
    tables.append(table)
    return tables


# --- backlog -----------------------------------------------------------------------------------

AGE_BUCKETS = ((1, "< 1 d"), (3, "1–3 d"), (7, "3–7 d"), (30, "7–30 d"), (None, "> 30 d"))


def page_backlog(viewer: User, filters: ReportFilters) -> list[Table]:
    from django.db.models import Case, IntegerField, Value, When

    now = timezone.now()
    open_facts = s.facts(viewer=viewer, filters=filters).filter(is_open=True)
    whens = [
        When(created_at__gt=now - timezone.timedelta(days=limit), then=Value(i))
        for i, (limit, _l) in enumerate(AGE_BUCKETS)
        if limit is not None
    ]
    counts = (
        open_facts.annotate(
            age=Case(*whens, default=Value(len(AGE_BUCKETS) - 1), output_field=IntegerField())
        )
        .values("status", "age")
        .annotate(n=Count("ticket_id"))
    )
    grid: dict[str, list[int]] = defaultdict(lambda: [0] * len(AGE_BUCKETS))
    for row in counts:
        grid[row["status"]][row["age"]] += row["n"]
    drill = Drill(filters)
    by_age = Table(
        "backlog-age",
        _("Open tickets by status and age"),
        [_("Status"), *(label for _l, label in AGE_BUCKETS), _("Total")],
    )
    for status in OPEN_STATUSES:
        if status in grid:
            row = grid[status]
            by_age.add([str(Status(status).label), *row, sum(row)], drill(status=status))
    by_age.chart = chart(
        "bar",
        [r[0] for r in by_age.rows],
        [(label, [r[1 + i] for r in by_age.rows]) for i, (_l, label) in enumerate(AGE_BUCKETS)],
        stacked=True,
    )
    flow = Table(
        "backlog-flow",
        _("Created and closed per day"),
        [_("Day"), _("Created"), _("Resolved"), _("Closed")],
    )
    days = s.rollup_sets(
        viewer=viewer, filters=filters, keys=("day",), counters=("created", "resolved", "closed")
    )
    for row in days["day"]:
        flow.add([row["day"].isoformat(), row["created"], row["resolved"], row["closed"]])
    flow.chart = chart(
        "line",
        [r[0] for r in flow.rows],
        [(flow.columns[i], [r[i] for r in flow.rows]) for i in (1, 2, 3)],
    )
    oldest = Table(
        "backlog-oldest",
        _("Oldest open tickets"),
        [_("Ticket"), _("Title"), _("Status"), _("Priority"), _("Created"), _("Age (days)")],
    )
    rows = list(open_facts.order_by("created_at").values("ticket_id", "created_at")[:20])
    from tickets.models import Ticket

    tickets = Ticket.objects.in_bulk([r["ticket_id"] for r in rows])
    for row in rows:
        ticket = tickets.get(row["ticket_id"])
        if ticket is None:
            continue
        oldest.add(
            [
                ticket.number,
                ticket.title,
                str(ticket.get_status_display()),
                ticket.priority,
                timezone.localtime(ticket.created_at).strftime("%Y-%m-%d %H:%M"),
                (now - ticket.created_at).days,
            ],
            reverse("workspace:ticket", args=[ticket.number]),
        )
    return [by_age, flow, oldest]


# --- resolution rates, escalation, reopen ------------------------------------------------------


def _rates(row: dict) -> list:
    resolved = row["resolved"]
    return [
        resolved,
        pct(row["first_contact"], resolved),
        pct(row["front_resolved"], resolved),
        pct(row["reopened"], resolved),
    ]


def page_resolution(viewer: User, filters: ReportFilters) -> list[Table]:
    drill = Drill(filters)
    columns = [
        "",
        _("Resolved"),
        _("First-contact resolution %"),
        _("Tier-1 resolution %"),
        _("Reopen %"),
    ]
    overall = Table("rates-all", _("Resolution rates"), [_("All"), *columns[1:]])
    sets = s.rollup_sets(viewer=viewer, filters=filters, keys=("team_id",), counters=RATE_COUNTERS)
    total = sets[""][0]
    overall.add([_("All"), *_rates(total)], drill())
    per_team = Table("rates-team", _("Per team"), [_("Team"), *columns[1:]])
    rows = sets["team_id"]
    labels = s.labels_for("team_id", [r["team_id"] for r in rows], filters=filters)
    for row in rows:
        if row["resolved"]:
            per_team.add(
                [_label(labels, row["team_id"]), *_rates(row)], drill(team_id=row["team_id"])
            )
    per_team.chart = chart(
        "bar",
        [r[0] for r in per_team.rows],
        [(columns[i], [r[i] for r in per_team.rows]) for i in (2, 3, 4)],
        percent=True,
    )
    escalation = Table(
        "escalation-tier",
        _("Escalation rate per tier"),
        [_("Tier"), _("Tickets created"), _("Escalated out of the tier"), _("Escalation %")],
    )
    for tier in (Tier.FRONT, Tier.MIDDLE):
        n = total[f"escalated_from_{tier}"]
        escalation.add([str(tier.label), total["created"], n, pct(n, total["created"])])
    escalation.chart = chart(
        "bar",
        [r[0] for r in escalation.rows],
        [(_("Escalation %"), [r[3] for r in escalation.rows])],
    )
    return [overall, per_team, escalation, _ola_table(total, drill)]


# --- satisfaction --------------------------------------------------------------------------------


def page_satisfaction(viewer: User, filters: ReportFilters) -> list[Table]:
    drill = Drill(filters)
    trend = Table(
        "satisfaction-trend", _("Satisfaction over time"), [_("Period"), _("Ratings"), _("Mean")]
    )
    sets = s.rollup_sets(
        viewer=viewer, filters=filters, keys=("bucket",), counters=("rating_sum", "rating_count")
    )
    for row in sets["bucket"]:
        if row["rating_count"]:
            trend.add(
                [
                    _bucket_label(row["bucket"], filters.grain),
                    row["rating_count"],
                    round(row["rating_sum"] / row["rating_count"], 2),
                ]
            )
    trend.chart = chart(
        "line", [r[0] for r in trend.rows], [(_("Mean"), [r[2] for r in trend.rows])]
    )
    resolved = s.facts(viewer=viewer, filters=filters).filter(
        resolved_day__gte=filters.date_from,
        resolved_day__lte=filters.date_to,
        rating__isnull=False,
    )
    counts = dict(resolved.values_list("rating").annotate(n=Count("ticket_id")))
    distribution = Table("satisfaction-scores", _("Distribution"), [_("Score"), _("Ratings")])
    for score in range(1, 6):
        distribution.add([score, counts.get(score, 0)])
    distribution.chart = chart(
        "bar",
        [r[0] for r in distribution.rows],
        [(_("Ratings"), [r[1] for r in distribution.rows])],
    )
    tables = [trend, distribution]
    for key, title in (("team_id", _("Per team")), ("assignee_id", _("Per agent"))):
        rows = list(
            resolved.values(key).annotate(n=Count("ticket_id"), mean=Avg("rating")).order_by(key)
        )
        labels = s.labels_for(key, [r[key] for r in rows], filters=filters)
        table = Table(f"satisfaction-{key}", title, [title, _("Ratings"), _("Mean")])
        for row in rows:
            link = drill(team_id=row[key]) if key == "team_id" and row[key] else None
            table.add([_label(labels, row[key]), row["n"], round(row["mean"], 2)], link)
        tables.append(table)
    return tables


# --- systems and modules -------------------------------------------------------------------------


def page_systems(viewer: User, filters: ReportFilters) -> list[Table]:
    created = s.facts(viewer=viewer, filters=filters).filter(
        created_day__gte=filters.date_from, created_day__lte=filters.date_to
    )
    drill = Drill(filters)
    tables = []
    for key, title in (("system_id", _("Per system")), ("module_id", _("Per module"))):
        rows = list(
            created.values(key)
            .annotate(
                n=Count("ticket_id"),
                people=Count("requester_id", distinct=True),
                open=Count("ticket_id", filter=Q(is_open=True)),
                rated=Count("rating"),
                mean=Avg("rating"),
            )
            .order_by("-n")[:50]
        )
        labels = s.labels_for(key, [r[key] for r in rows], filters=filters)
        table = Table(
            f"systems-{key}",
            title,
            [title, _("Tickets"), _("Distinct requesters"), _("Open now"), _("Ratings"), _("Mean")],
        )
        for row in rows:
            mean = round(row["mean"], 2) if row["mean"] is not None else None
            link = drill(system_id=row[key]) if key == "system_id" and row[key] else None
            table.add(
                [
                    _label(labels, row[key]),
                    row["n"],
                    row["people"],
                    row["open"],
                    row["rated"],
                    mean,
                ],
                link,
            )
        table.chart = chart(
            "bar", [r[0] for r in table.rows], [(_("Tickets"), [r[1] for r in table.rows])]
        )
        tables.append(table)
    return tables


# --- the dashboard home --------------------------------------------------------------------------


def headline(viewer: User, filters: ReportFilters) -> dict:
    """The numbers of the home page and the weekly summary mail."""
    sets = s.rollup_sets(viewer=viewer, filters=filters, keys=HOME_KEYS, counters=HOME_COUNTERS)
    total = sets[""][0]
    open_now = s.facts(viewer=viewer, filters=filters).filter(is_open=True)
    backlog = open_now.aggregate(n=Count("ticket_id"), oldest=Max("created_at"))
    fr = total["fr_met"] + total["fr_breached"]
    res = total["res_met"] + total["res_breached"]
    return {
        "created": total["created"],
        "resolved": total["resolved"],
        "open": backlog["n"],
        "fr_percent": pct(total["fr_met"], fr),
        "res_percent": pct(total["res_met"], res),
        "mttr_hours": hours(total["res_seconds"] / total["res_count"])
        if total["res_count"]
        else None,
        "satisfaction": round(total["rating_sum"] / total["rating_count"], 2)
        if total["rating_count"]
        else None,
        "first_contact_percent": pct(total["first_contact"], total["resolved"]),
        "reopen_percent": pct(total["reopened"], total["resolved"]),
    }


def page_home(viewer: User, filters: ReportFilters) -> list[Table]:
    sets = s.rollup_sets(viewer=viewer, filters=filters, keys=HOME_KEYS, counters=HOME_COUNTERS)
    flow = Table("home-flow", _("Created and resolved"), [_("Period"), _("Created"), _("Resolved")])
    for row in sets["bucket"]:
        flow.add([_bucket_label(row["bucket"], filters.grain), row["created"], row["resolved"]])
    flow.chart = chart(
        "line",
        [r[0] for r in flow.rows],
        [
            (flow.columns[1], [r[1] for r in flow.rows]),
            (flow.columns[2], [r[2] for r in flow.rows]),
        ],
    )
    rows = sets["priority"]
    sla = _sla_table(
        "home-sla",
        _("SLA compliance per priority"),
        rows,
        "priority",
        {p: p for p in Priority.values},
        Drill(filters),
    )
    return [flow, sla]


PAGES = {
    "home": (page_home, gettext_lazy("Overview")),
    "sla": (page_sla, gettext_lazy("SLA compliance")),
    "times": (page_times, gettext_lazy("Response and resolution times")),
    "backlog": (page_backlog, gettext_lazy("Backlog")),
    "risk": (page_risk, gettext_lazy("At risk and breached")),
    "resolution": (page_resolution, gettext_lazy("Resolution, reopen and escalation")),
    "satisfaction": (page_satisfaction, gettext_lazy("Satisfaction")),
    "systems": (page_systems, gettext_lazy("Systems and modules")),
    "problems": (page_problems, gettext_lazy("Repeated problems")),
    "spikes": (page_spikes, gettext_lazy("Spikes and releases")),
}
