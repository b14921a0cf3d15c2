"""The workspace's search page (issue #19): ranked, highlighted results of the header's box.

Kept apart from `views.py` (the queues and the ticket page) so the search can change without
touching them. The words, ranking and highlights are `tickets.search`'s; the scope is the
viewer's (`visible_tickets`), as everywhere.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from tickets.selectors import ticket_search

from .reference import reference_labels
from .rendering import search_rows
from .views import QUEUES, agent_required


@agent_required
def search(request: HttpRequest) -> HttpResponse:
    text = (request.GET.get("q") or "").strip()[:200]
    results = ticket_search(viewer=request.user, text=text) if text else []
    if len(results) == 1 and results[0].ticket.number.lower() == text.lower():
        # A ticket number typed into the box opens that ticket.
        return redirect("workspace:ticket", number=results[0].ticket.number)
    ticket_url = reverse("workspace:ticket", args=["NUMBER"]).replace("NUMBER", "{}")
    context = {
        "q": text,
        "results": results,
        "rows_html": (
            search_rows(results, labels=reference_labels(), ticket_url=ticket_url)
            if results
            else ""
        ),
        "queues": QUEUES,
        "nav": "search",
    }
    return render(request, "workspace/search.html", context)
