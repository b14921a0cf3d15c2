"""A JSON parser that never lets a lone surrogate into the application.

JSON may spell a lone UTF-16 surrogate (`"\\ud800"`), which Python decodes into a string that
cannot be encoded again: stored, logged or echoed back in an error message it would fail with
a 500. Each one becomes U+FFFD (the replacement character), as invalid UTF-8 does elsewhere.
"""

from __future__ import annotations

import re

from rest_framework.parsers import JSONParser

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_lone_surrogates(value):
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {replace_lone_surrogates(k): replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_lone_surrogates(item) for item in value]
    return value


class SafeTextJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return replace_lone_surrogates(super().parse(stream, media_type, parser_context))
