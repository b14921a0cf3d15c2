"""The building blocks of the report pages: a table with its chart, drill-down links, and
the number formats every page shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

from catalog.models import RequestType

from .choices import Grain
from .selectors import ReportFilters

HOUR = 3600.0


@dataclass
class Table:
    """One table of a page: header, rows of plain values, a drill-down link per row, a chart."""

    slug: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)
    chart: dict | None = None
    note: str = ""

    def add(self, values: list, link: str | None = None) -> None:
        self.rows.append(values)
        self.links.append(link)

    @property
    def body(self) -> list[tuple[list, str | None]]:
        return list(zip(self.rows, self.links, strict=True))


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def hours(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / HOUR, 2)


def chart(kind: str, labels: list, datasets: list[tuple[str, list]], **options) -> dict:
    return {
        "type": kind,
        "labels": [str(label) for label in labels],
        "datasets": [{"label": str(name), "data": data} for name, data in datasets],
        **options,
    }


class Drill:
    """Links from a number to the workspace ticket list behind it (the filters it accepts)."""

    def __init__(self, filters: ReportFilters):
        self.filters = filters
        self._codes: dict[int, str] | None = None

    def code(self, request_type_id: int | None) -> str | None:
        if request_type_id is None:
            return None
        if self._codes is None:
            reference = self.filters.cache.get("reference") or {}
            self._codes = reference.get("request_type_codes") or dict(
                RequestType.objects.values_list("pk", "code")
            )
        return self._codes.get(request_type_id)

    def __call__(self, queue: str = "all", **dims) -> str:
        f = self.filters
        params = {
            "priority": dims.get("priority", f.priority),
            "team": dims.get("team_id", f.team),
            "tier": dims.get("tier", f.tier),
            "unit": dims.get("unit_id", f.unit),
            "system": dims.get("system_id", f.system),
            "status": dims.get("status", ""),
            "request_type": self.code(dims.get("request_type_id", f.request_type)),
        }
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        url = reverse("workspace:queue_which", args=[queue])
        return f"{url}?{query}" if query else url


def _label(labels: dict, value) -> str:
    if value in (None, ""):
        return "—"
    return str(labels.get(value, value))


def _bucket_label(day, grain: str) -> str:
    if grain == Grain.MONTH:
        return day.strftime("%Y-%m")
    return day.isoformat()
