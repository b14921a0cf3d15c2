"""Reads of the reports, scoped by the viewer, from the rollups and facts (never a scan of the
tickets). Every function costs a fixed number of queries whatever the size of the desk.

Scope: a viewer who may see every ticket sees every unit; anyone else sees the units they
manage and the units below them (the same rule as the ticket lists).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Aggregate, FloatField, Q, QuerySet
from django.utils import timezone

from accounts.models import OrgUnit, Team, User
from catalog.models import Category, InformationSystem, RequestType, SystemModule

from .choices import Grain
from .models import DailyRollup, RepeatedProblem, RollupState, Spike, TicketFact
from .rollups import ROLLUP_COUNTERS, STATE_KEY
from .routers import reports_db


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest values."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclass
class ReportFilters:
    """The filters of every report page, all kept in the URL (see forms.ReportFilterForm)."""

    date_from: date
    date_to: date
    grain: str = Grain.WEEK
    unit: int | None = None
    team: int | None = None
    tier: str = ""
    priority: str = ""
    request_type: int | None = None
    system: int | None = None
    unit_path: str | None = field(default=None, repr=False)
    # Results already read for this request (see rollup_sets).
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def previous(self) -> ReportFilters:
        """The period of the same length just before this one (for trends)."""
        span = timedelta(days=self.days)
        return ReportFilters(
            **{
                **self.__dict__,
                "date_from": self.date_from - span,
                "date_to": self.date_to - span,
                # Another period: nothing read for this one applies, but the names do.
                "cache": {"reference": self.cache.get("reference")},
            }
        )


def scope_q(viewer: User) -> Q | None:
    """None when the viewer sees every unit; else a prefix match on their managed units."""
    if viewer.has_perm("accounts.view_all_tickets"):
        return None
    scope = Q(pk__in=[])
    for path in viewer.managed_units.values_list("path", flat=True):
        scope |= Q(unit_path__startswith=path)
    return scope


def _dimension_q(filters: ReportFilters) -> Q:
    q = Q()
    if filters.unit is not None:
        if filters.unit_path is None:
            filters.unit_path = (
                OrgUnit.objects.filter(pk=filters.unit).values_list("path", flat=True).first()
                or "\x00"
            )
        q &= Q(unit_path__startswith=filters.unit_path)
    if filters.team is not None:
        q &= Q(team_id=filters.team)
    if filters.tier:
        q &= Q(tier=filters.tier)
    if filters.priority:
        q &= Q(priority=filters.priority)
    if filters.request_type is not None:
        q &= Q(request_type_id=filters.request_type)
    if filters.system is not None:
        q &= Q(system_id=filters.system)
    return q


def viewer_scope(viewer: User, filters: ReportFilters) -> Q | None:
    """`scope_q`, read once per request (every query of a page is scoped)."""
    key = ("scope", viewer.pk)
    if key not in filters.cache:
        filters.cache[key] = scope_q(viewer)
    return filters.cache[key]


def _scoped(queryset: QuerySet, viewer: User, filters: ReportFilters) -> QuerySet:
    scope = viewer_scope(viewer, filters)
    if scope is not None:
        queryset = queryset.filter(scope)
    return queryset.filter(_dimension_q(filters))


def rollups(*, viewer: User, filters: ReportFilters) -> QuerySet[DailyRollup]:
    """The viewer's rollup rows of the period."""
    queryset = DailyRollup.objects.using(reports_db()).filter(
        day__gte=filters.date_from, day__lte=filters.date_to
    )
    return _scoped(queryset, viewer, filters)


def facts(*, viewer: User, filters: ReportFilters) -> QuerySet[TicketFact]:
    """The viewer's facts (no period: each report picks the day that matters to it)."""
    return _scoped(TicketFact.objects.using(reports_db()), viewer, filters)


def _bucket_sql(day_column: str, grain: str) -> str:
    """The grain bucket of a day column: the day itself, or the first day of its week/month."""
    if grain in (Grain.WEEK, Grain.MONTH):
        return f"date_trunc('{grain}', r.{day_column})::date"
    return f"r.{day_column}"


def _grouping_sets(
    queryset: QuerySet,
    *,
    keys: tuple[str, ...],
    aggregates: list[str],
    bucket_sql: str | None = None,
) -> dict[str, list[tuple]]:
    """`aggregates` over the rows of `queryset` per each of `keys` and in total (key ""), from
    ONE scan (GROUPING SETS): {key: [(value of the key, aggregate values), ...]}, sorted by the
    key's value. `bucket_sql` adds a column `bucket` the keys may name. Only the module's own
    constant names and expressions reach the SQL, never input."""
    from django.db import connections

    inner, params = queryset.query.sql_with_params()
    names = ", ".join(keys)
    grouping = f"GROUPING({names})" if keys else "0"
    sets = ", ".join([*(f"({key})" for key in keys), "()"])
    select_bucket = f", {bucket_sql} AS bucket" if bucket_sql else ""
    sql = (
        f"SELECT {names + ', ' if keys else ''}{grouping}, {', '.join(aggregates)} "  # noqa: S608  # nosec B608
        f"FROM (SELECT r.*{select_bucket} FROM ({inner}) r) x GROUP BY GROUPING SETS ({sets})"
    )
    # GROUPING() sets the bit of every key a row is NOT grouped by (first key = highest bit).
    full = (1 << len(keys)) - 1
    mask_of = {full - (1 << (len(keys) - 1 - i)): key for i, key in enumerate(keys)}
    mask_of[full] = ""
    result: dict[str, list[tuple]] = {key: [] for key in (*keys, "")}
    with connections[reports_db()].cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            key = mask_of[row[len(keys)]]
            value = row[keys.index(key)] if key else None
            result[key].append((value, row[len(keys) + 1 :]))
    for key in keys:
        result[key].sort(key=lambda pair: (pair[0] is None, str(pair[0])))
    return result


def time_sets(
    queryset: QuerySet[TicketFact],
    seconds_field: str,
    keys: tuple[str, ...],
    *,
    bucket_of: str | None = None,
    grain: str = Grain.WEEK,
) -> dict[str, list[dict]]:
    """n, mean, median and p90 of a time column (seconds) per each of `keys` (and per grain
    bucket of the `bucket_of` day when given) and overall (key ""), in ONE scan
    (percentile_cont interpolates linearly between the two nearest values)."""
    keys = (*keys, "bucket") if bucket_of else tuple(keys)
    sets = _grouping_sets(
        queryset.filter(**{f"{seconds_field}__isnull": False}),
        keys=keys,
        aggregates=[
            "count(*)",
            f"avg({seconds_field})",
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {seconds_field})",
            f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {seconds_field})",
        ],
        bucket_sql=_bucket_sql(bucket_of, grain) if bucket_of else None,
    )
    result: dict[str, list[dict]] = {}
    for key, rows in sets.items():
        result[key] = []
        for value, (n, mean, median, p90) in rows:
            stats = {"n": n, "mean": mean, "median": median, "p90": p90}
            if key:
                stats[key] = value
            result[key].append(stats)
    return result


# --- labels: one small query per dimension -----------------------------------------------------


def labels_for(dimension: str, ids, *, filters: ReportFilters | None = None) -> dict:
    """Display names of dimension values: from the request's reference data when the filter
    form read them already (units, teams, request types, systems), else one small query."""
    known = (filters.cache.get("reference") or {}).get("labels", {}) if filters else {}
    if dimension in known:
        return known[dimension]
    ids = [i for i in set(ids) if i is not None and i != ""]
    if dimension == "tier":
        from accounts.choices import Tier

        return {value: label for value, label in Tier.choices}
    if dimension == "priority":
        return {p: p for p in ids}
    model = {
        "team_id": Team,
        "unit_id": OrgUnit,
        "request_type_id": RequestType,
        "system_id": InformationSystem,
        "module_id": SystemModule,
        "category_id": Category,
        "assignee_id": User,
    }[dimension]
    if not ids:
        return {}
    rows = model.objects.filter(pk__in=ids)
    if model is User:
        return {user.pk: str(user) for user in rows.only("username", "display_name", "first_name")}
    return {row.pk: row.label for row in rows}


# --- freshness ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    refreshed_at: datetime | None
    generation: str = ""

    @property
    def age(self) -> timedelta | None:
        return timezone.now() - self.refreshed_at if self.refreshed_at else None


def freshness() -> Freshness:
    state = RollupState.objects.using(reports_db()).filter(key=STATE_KEY).first()
    if state is None:
        return Freshness(None)
    return Freshness(state.refreshed_at, str(state.generation or ""))


# --- lists ----------------------------------------------------------------------------------


def spikes(*, filters: ReportFilters, limit: int = 100) -> list[Spike]:
    queryset = Spike.objects.using(reports_db()).filter(
        day__gte=filters.date_from, day__lte=filters.date_to
    )
    if filters.request_type is not None:
        queryset = queryset.filter(request_type_id=filters.request_type)
    if filters.system is not None:
        queryset = queryset.filter(system_id=filters.system)
    return list(
        queryset.select_related("request_type", "system", "release", "release__system")[:limit]
    )


def repeated_problems(*, period_days: int) -> list[RepeatedProblem]:
    return list(
        RepeatedProblem.objects.using(reports_db())
        .filter(period_days=period_days)
        .select_related("category", "system")
        .order_by("rank")
    )


# --- one scan of the rollups for every grouping a page shows ------------------------------------

SET_KEYS = ("priority", "team_id", "tier", "unit_id", "bucket", "day")


def rollup_sets(
    *,
    viewer: User,
    filters: ReportFilters,
    keys: tuple[str, ...] = SET_KEYS,
    counters: tuple[str, ...] = tuple(ROLLUP_COUNTERS),
) -> dict[str, list[dict]]:
    """The period's rollup `counters` per each of `keys` (priority, team, tier, unit, grain
    bucket, day) and in total (key ""), from ONE scan of the rollup rows (GROUPING SETS). A page
    asks only for the groupings and counters it shows: the cost is per row × grouping ×
    counter. Cached on `filters` for the request, so a page and its headline share the scan."""
    cache_key = ("rollup_sets", viewer.pk, keys, counters)
    if cache_key in filters.cache:
        return filters.cache[cache_key]
    unknown = set(keys) - set(SET_KEYS) | set(counters) - set(ROLLUP_COUNTERS)
    if unknown:
        raise ValueError(f"unknown rollup keys or counters: {sorted(unknown)}")
    sets = _grouping_sets(
        rollups(viewer=viewer, filters=filters),
        keys=keys,
        aggregates=[f"sum({name})" for name in counters],
        bucket_sql=_bucket_sql("day", filters.grain),
    )
    result: dict[str, list[dict]] = {}
    for key, rows in sets.items():
        result[key] = []
        for value, sums in rows:
            values = dict(zip(counters, (v or 0 for v in sums), strict=True))
            if key:
                values[key] = value
            result[key].append(values)
    if not result[""]:
        result[""] = [dict.fromkeys(counters, 0)]
    filters.cache[cache_key] = result
    return result
