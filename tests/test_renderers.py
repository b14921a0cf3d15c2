"""The API's JSON renderer (servicedesk/renderers.py) writes what DRF's would, byte for byte."""

from __future__ import annotations

import datetime
import decimal
import uuid
import zoneinfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from servicedesk.renderers import DeskJSONRenderer

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

CASES = {
    "ticket list page": {
        "next": "http://localhost/api/tickets/?cursor=cD0xMjM%3D",
        "previous": None,
        "results": ReturnList(
            [
                ReturnDict(
                    {
                        "id": 9_000_000_001,
                        "number": "SD-2026-000001",
                        "title": '打印机无法连接 <script>alert(1)</script> "quoted" \\ back',
                        "needs_triage": False,
                        "assignee": None,
                        "team": {"id": 3, "code": "net", "name": "网络组"},
                        "created_at": "2026-12-07T05:31:00.123456Z",
                    },
                    serializer=None,
                )
            ],
            serializer=None,
        ),
    },
    "datetimes, dates and times": {
        "utc": datetime.datetime(2026, 12, 7, 5, 31, 0, 123456, tzinfo=datetime.UTC),
        "utc_whole_second": datetime.datetime(2026, 12, 7, 5, 31, tzinfo=datetime.UTC),
        "shanghai": datetime.datetime(2026, 12, 7, 13, 31, 5, tzinfo=SHANGHAI),
        "naive": datetime.datetime(2026, 12, 7, 13, 31, 5),
        "date": datetime.date(2026, 10, 1),
        "time": datetime.time(9, 30, 15, 250),
        "duration": datetime.timedelta(hours=4, seconds=1),
    },
    "other types": {
        "decimal": decimal.Decimal("99.50"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lazy": gettext_lazy("Not found."),
        "tuple": (1, 2, 3),
        "int_keys": {1: "one", 2: "two"},
        "bool_key": {True: "yes"},
        "float": 0.1 + 0.2,
        "negative": -17,
        "empty": {},
        "bytes": b"raw",
    },
    "line and paragraph separators": {"text": "a\u2028b\u2029c", "ascii": "\x00\x1f\t\n"},
    "emoji and astral characters": {"text": "工单 🎫 𠀋"},
    "beyond 64 bits": {"id": 2**70, "neg": -(2**70)},
}

_deep: list = []
_cursor = _deep
for _ in range(300):
    _cursor.append([])
    _cursor = _cursor[0]
CASES["deeper than orjson nests"] = _deep


@pytest.mark.parametrize("name", list(CASES))
def test_the_output_is_drfs_byte_for_byte(name):
    data = CASES[name]
    assert DeskJSONRenderer().render(data) == JSONRenderer().render(data)


def test_an_indented_response_is_drfs():
    data = CASES["ticket list page"]
    media = "application/json; indent=2"
    assert DeskJSONRenderer().render(data, media, {}) == JSONRenderer().render(data, media, {})
    assert b'\n  "next"' in DeskJSONRenderer().render(data, media, {})


def test_nothing_renders_as_nothing():
    assert DeskJSONRenderer().render(None) == b""


def test_a_float_json_cannot_write_is_null_not_an_error():
    with pytest.raises(ValueError):
        JSONRenderer().render({"ratio": float("nan")})
    assert DeskJSONRenderer().render({"ratio": float("nan"), "x": float("inf")}) == (
        b'{"ratio":null,"x":null}'
    )


def test_the_api_answers_through_it():
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_RENDERER_CLASSES[0] is DeskJSONRenderer
