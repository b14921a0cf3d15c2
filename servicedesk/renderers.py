"""The API's JSON renderer: DRF's output, written by orjson.

DRF's `JSONRenderer` encodes with the standard library's `json`, whose C encoder still calls
back into Python for every string it escapes; for a 50-row ticket list that was a seventh of
the request's Python time (docs/benchmarks.md, "HTTP throughput"). orjson writes the same
compact, non-ASCII-preserving JSON several times faster. What orjson would write differently
goes through DRF's own encoder (`default`): dates and times (DRF writes UTC as `Z`), lazy
translations, decimals. Anything orjson refuses (an integer beyond 64 bits, nesting deeper
than 254) and an indented response asked for in the Accept header are rendered by DRF.
One difference is deliberate: a NaN or infinite float, which DRF refuses with an error
(strict JSON), is written `null`.
"""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME  # datetime, date, time: DRF's format
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_NON_STR_KEYS  # as json.dumps: 1 → "1"
)
_drf_default = JSONEncoder().default


class DeskJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        indent = self.get_indent(accepted_media_type, renderer_context or {})
        if indent is not None or self.ensure_ascii or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            text = orjson.dumps(data, default=_drf_default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError included
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: U+2028 and U+2029 escaped, so the output is also valid JavaScript.
        if b"\xe2\x80\xa8" in text or b"\xe2\x80\xa9" in text:
            text = text.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return text
