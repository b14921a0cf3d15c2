"""The managers' report pages: filters in the URL, charts, tables, drill-down and exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from . import exports, pages, selectors
from .forms import ReportFilterForm

NAV = [(slug, title) for slug, (_builder, title) in pages.PAGES.items()]

# Pages computed only from the read model (facts and rollups), which changes only when the
# refresh runs: what they show is cached under the refresh's generation, so the first manager
# after a refresh pays for the scan and the others read the result. The live page (at risk)
# and the snapshot lists edited in between (releases) are always computed.
CACHED_PAGES = {"home", "sla", "times", "backlog", "resolution", "satisfaction", "systems"}
# A generation lasts until the next refresh (beat, every few minutes); this only bounds the
# memory a long pause of the refresh could hold.
CACHE_SECONDS = 3600


def _cache_key(request: HttpRequest, page: str, filters, generation: str) -> str:
    scope = selectors.viewer_scope(request.user, filters)
    f = filters
    dims = (f.date_from, f.date_to, f.grain, f.unit, f.team, f.tier, f.priority)
    dims += (f.request_type, f.system)
    who = "all" if scope is None else f"user{request.user.pk}"
    return f"reports:{generation}:{page}:{get_language()}:{who}:" + ":".join(map(str, dims))


def _build(request: HttpRequest, page: str, filters, freshness) -> tuple[list, dict | None]:
    builder, _title = pages.PAGES[page]

    def compute():
        tables = builder(request.user, filters)
        headline = pages.headline(request.user, filters) if page == "home" else None
        return tables, headline

    if page not in CACHED_PAGES or not freshness.generation:
        return compute()
    key = _cache_key(request, page, filters, freshness.generation)
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, CACHE_SECONDS)
    return found


@login_required
@permission_required("accounts.view_reports", raise_exception=True)
def report(request: HttpRequest, page: str = "home") -> HttpResponse:
    """One report page; `?export=csv&table=<slug>` or `?export=xlsx` downloads its tables."""
    if page not in pages.PAGES:
        raise Http404
    _builder, title = pages.PAGES[page]
    # Always bound (an empty query string means the defaults): one form, one read of its
    # reference data per request.
    form = ReportFilterForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "reports/report.html",
            {"form": form, "page": page, "title": title, "nav": NAV, "tables": []},
            status=400,
        )
    filters = form.filters()
    freshness = selectors.freshness()
    tables, headline = _build(request, page, filters, freshness)
    export = request.GET.get("export")
    name = f"{page}-{filters.date_from}-{filters.date_to}"
    if export == "xlsx":
        return exports.xlsx_response(tables, name)
    if export == "csv":
        wanted = request.GET.get("table") or (tables[0].slug if tables else "")
        for table in tables:
            if table.slug == wanted:
                return exports.csv_response(table, f"{name}-{table.slug}")
        raise Http404
    query = request.GET.copy()
    query.pop("export", None)
    query.pop("table", None)
    return render(
        request,
        "reports/report.html",
        {
            "form": form,
            "page": page,
            "title": title,
            "nav": NAV,
            "tables": tables,
            "filters": filters,
            "query": query.urlencode(),
            "freshness": freshness,
            "headline": headline,
        },
    )
