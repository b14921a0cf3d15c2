"""The API's JSON parser: bounded in depth and size, and never lets a lone surrogate in.

JSON may spell a lone UTF-16 surrogate (`"\\ud800"`), which Python decodes into a string that
cannot be encoded again: stored, logged or echoed back in an error message it would fail with
a 500. Each one becomes U+FFFD (the replacement character), as invalid UTF-8 does elsewhere.

A body nested hundreds of levels deep used to end in a `RecursionError` (a 500), and one with
100,000 keys was accepted: nothing the desk's API takes needs either. Bodies deeper than
`API_JSON_MAX_DEPTH` or with more keys (counted over the whole body) than Django's
`DATA_UPLOAD_MAX_NUMBER_FIELDS` (the same cap forms have) are refused with a 400 before any
view sees them.
"""

from __future__ import annotations

import codecs
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
DEFAULT_MAX_DEPTH = 32


def max_depth() -> int:
    return getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)


def max_keys() -> int | None:
    return settings.DATA_UPLOAD_MAX_NUMBER_FIELDS


class JSONTooLarge(Exception):
    """Raised from inside the decoder to stop reading a body that has too many keys."""


def replace_lone_surrogates(value):
    """Recursive, so only called on values whose depth `check_depth` has bounded."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {replace_lone_surrogates(k): replace_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [replace_lone_surrogates(item) for item in value]
    return value


def nesting_depth(value) -> int:
    """How many containers deep `value` goes (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def too_deep() -> ParseError:
    return ParseError(
        _("The JSON body is nested deeper than %(depth)d levels.") % {"depth": max_depth()}
    )


class SafeTextJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = max_keys()
        seen = 0

        def count_keys(pairs):
            nonlocal seen
            seen += len(pairs)
            if limit is not None and seen > limit:
                raise JSONTooLarge
            return dict(pairs)

        try:
            decoded_stream = codecs.getreader(encoding)(stream)
            parse_constant = json.strict_constant if self.strict else None
            data = json.load(
                decoded_stream, parse_constant=parse_constant, object_pairs_hook=count_keys
            )
        except RecursionError as exc:
            # The C decoder gives up far deeper than the limit; same answer either way.
            raise too_deep() from exc
        except JSONTooLarge as exc:
            raise ParseError(
                _("The JSON body has more than %(count)d keys.") % {"count": limit}
            ) from exc
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
        if nesting_depth(data) > max_depth():
            raise too_deep()
        return replace_lone_surrogates(data)
