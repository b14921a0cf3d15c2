"""Template helpers of the web UI."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

register = template.Library()


@register.simple_tag
def query_replace(request, **changes) -> str:
    """The current query string with some parameters replaced (empty values removed)."""
    params = request.GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    return urlencode(sorted((k, v) for k in params for v in params.getlist(k)))


@register.filter
def filesize(value: int) -> str:
    size = float(value or 0)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
