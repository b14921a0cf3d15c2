"""Pieces the two web sides (portal and workspace) share: turning service errors into form
errors or messages, keyset pagination and styled forms. Nothing here knows a domain app.

Services raise ValidationError (→ the form's field errors), a `DomainError` such as the ticket
core's IllegalTransition or ConcurrentModification (→ a message; nothing was written) and
PermissionDenied (→ left to propagate: Django answers 403). A page never shows a 500 for bad
input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from .exceptions import DomainError

T = TypeVar("T")


def run_service(
    request: HttpRequest, call: Callable[[], T], *, form: forms.Form | None = None
) -> tuple[bool, T | None]:
    """Call a service; on a domain error put it where the person sees it and return False."""
    try:
        return True, call()
    except ValidationError as exc:
        _report_validation(request, exc, form)
    except DomainError as exc:
        messages.error(request, str(exc))
    return False, None


def _report_validation(request: HttpRequest, exc: ValidationError, form: forms.Form | None):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            if form is not None:
                form.add_error(field if field in form.fields else None, errors)
            else:
                for error in errors:
                    messages.error(request, error)
    elif form is not None:
        form.add_error(None, exc.messages)
    else:
        for error in exc.messages:
            messages.error(request, error)


# --- keyset pagination ----------------------------------------------------------------------


@dataclass
class Sort:
    """One keyset-friendly ordering: a leading column (or none) and then the id."""

    key: str
    label: Any
    column: str | None  # leading column, ascending; None means by id only
    id_descending: bool = True

    def order_by(self) -> list[str]:
        id_order = "-id" if self.id_descending else "id"
        return [self.column, id_order] if self.column else [id_order]


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    prev_cursor: str | None


def _encode(row: Any, sort: Sort) -> str:
    return f"{getattr(row, sort.column)}~{row.pk}" if sort.column else str(row.pk)


def _decode(value: str, sort: Sort) -> tuple[str | None, int] | None:
    try:
        if sort.column:
            lead, _, pk = value.rpartition("~")
            return lead, int(pk)
        return None, int(value)
    except ValueError:
        return None


def _after(sort: Sort, lead: str | None, pk: int, *, forward: bool) -> Q:
    """Rows after (forward) or before the cursor in the sort's order."""
    id_later = "id__lt" if sort.id_descending == forward else "id__gt"
    if not sort.column:
        return Q(**{id_later: pk})
    lead_later = f"{sort.column}__gt" if forward else f"{sort.column}__lt"
    return Q(**{lead_later: lead}) | Q(**{sort.column: lead, id_later: pk})


def keyset_page(
    queryset: QuerySet,
    sort: Sort,
    *,
    after: str = "",
    before: str = "",
    size: int = 50,
    fetch: Callable[[list[int]], list] | None = None,
) -> Page:
    """One page of `queryset` in `sort`'s order, without OFFSET or COUNT(*).

    `after` is the cursor of the previous page's last row (next page), `before` the cursor of
    this page's first row when going back. The query reads at most size + 1 rows through the
    index of the filter, so it costs the same on page 1 and page 10,000.

    Two steps, both on the viewer-scoped queryset: the ids of the page first (the ticket
    table alone, so when PostgreSQL must sort a large queue it sorts bare ids), then the
    page's rows with their related people, team and reference data, by those ids (or
    `fetch(ids)`'s rows, in that order, each with `pk` and the sort's column).
    """
    if fetch is None:

        def fetch(ids: list[int]) -> list:
            return _rows_by_id(queryset, ids)

    cursor = _decode(after, sort) if after else None
    back = _decode(before, sort) if before and not cursor else None
    ids_only = queryset.select_related(None).prefetch_related(None)
    if back is not None:
        reverse = [f"-{f}" if not f.startswith("-") else f[1:] for f in sort.order_by()]
        ids = list(
            ids_only.filter(_after(sort, *back, forward=False))
            .order_by(*reverse)
            .values_list("id", flat=True)[: size + 1]
        )
        has_more = len(ids) > size
        rows = fetch(list(reversed(ids[:size])))
        return Page(
            rows=rows,
            next_cursor=_encode(rows[-1], sort) if rows else None,
            prev_cursor=_encode(rows[0], sort) if rows and has_more else None,
        )
    if cursor is not None:
        ids_only = ids_only.filter(_after(sort, *cursor, forward=True))
    ids = list(ids_only.order_by(*sort.order_by()).values_list("id", flat=True)[: size + 1])
    has_more = len(ids) > size
    rows = fetch(ids[:size])
    return Page(
        rows=rows,
        next_cursor=_encode(rows[-1], sort) if rows and has_more else None,
        prev_cursor=_encode(rows[0], sort) if rows and cursor is not None else None,
    )


def _rows_by_id(queryset: QuerySet, ids: list[int]) -> list:
    if not ids:
        return []
    found = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()}
    return [found[pk] for pk in ids if pk in found]


# --- forms ----------------------------------------------------------------------------------


class StyledForm(forms.Form):
    """A form whose widgets carry the CSS framework's classes, so templates stay plain."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(
                widget, forms.RadioSelect | forms.CheckboxSelectMultiple | forms.CheckboxInput
            ):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-invalid"] = "true"
