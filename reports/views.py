"""The managers' report pages: filters in the URL, charts, tables, drill-down and exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from . import exports, pages, selectors
from .forms import ReportFilterForm

NAV = [(slug, title) for slug, (_builder, title) in pages.PAGES.items()]


@login_required
@permission_required("accounts.view_reports", raise_exception=True)
def report(request: HttpRequest, page: str = "home") -> HttpResponse:
    """One report page; `?export=csv&table=<slug>` or `?export=xlsx` downloads its tables."""
    if page not in pages.PAGES:
        raise Http404
    builder, title = pages.PAGES[page]
    form = ReportFilterForm(request.GET or None)
    if not form.is_bound:
        form = ReportFilterForm({})
    if not form.is_valid():
        return render(
            request,
            "reports/report.html",
            {"form": form, "page": page, "title": title, "nav": NAV, "tables": []},
            status=400,
        )
    filters = form.filters()
    tables = builder(request.user, filters)
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
            "freshness": selectors.freshness(),
            "headline": pages.headline(request.user, filters) if page == "home" else None,
        },
    )
