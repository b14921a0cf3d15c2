"""CSV and XLSX exports of the report tables: the same rows the page shows."""

from __future__ import annotations

import csv
import io
import re

from django.http import HttpResponse
from openpyxl import Workbook

from .tables import Table

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    # A text cell starting with = + - @ would be run as a formula by a spreadsheet (CSV
    # injection); ticket titles are user input.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def csv_response(table: Table, filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(c) for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    # A byte-order mark so spreadsheet programs read the Chinese text as UTF-8.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def workbook(tables: list[Table]) -> Workbook:
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for table in tables:
        name = re.sub(r"[\[\]\*\?/\\:]", " ", table.slug)[:31] or "table"
        while name in used:
            name = name[:28] + f"_{len(used)}"
        used.add(name)
        sheet = book.create_sheet(name)
        sheet.append([str(c) for c in table.columns])
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
    return book


def xlsx_response(tables: list[Table], filename: str) -> HttpResponse:
    buffer = io.BytesIO()
    workbook(tables).save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response
