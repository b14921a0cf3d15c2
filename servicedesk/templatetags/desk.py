"""Template helpers of the web UI."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.utils.html import format_html_join

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


@register.simple_tag
def select_options(bound_field) -> str:
    """The <option>s of a select, built in Python: a queue page's filters have a few hundred
    options, and rendering each through the widget templates cost more than the queries."""
    value = bound_field.value()
    selected = {str(v) for v in value} if isinstance(value, list | tuple) else {str(value)}

    def options():
        for option_value, label in bound_field.field.choices:
            key = "" if option_value is None else str(option_value)
            yield key, " selected" if key in selected else "", label

    # Every value and label is escaped by format_html_join; nothing is marked safe by hand.
    return format_html_join("", '<option value="{}"{}>{}</option>', options())


@register.simple_tag(takes_context=True)
def form_field(context, field, wrapper_class: str = ""):
    """`{% include "_field.html" with field=... wrapper_class=... %}`, built in Python
    (servicedesk.fieldhtml); the model choices are read once per page render."""
    from servicedesk.fieldhtml import field_html

    # The first of the context's dicts is created afresh for every render and shared with the
    # templates it includes: one cache of option rows per page.
    cache = context.dicts[0].setdefault("_field_options", {})
    return field_html(field, wrapper_class, cache)
