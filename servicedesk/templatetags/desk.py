"""Template helpers of the web UI."""

from __future__ import annotations

import html
from urllib.parse import urlencode

from django import template
from django.utils.safestring import mark_safe

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

    options = []
    for option_value, label in bound_field.field.choices:
        key = "" if option_value is None else str(option_value)
        mark = " selected" if key in selected else ""
        options.append(f'<option value="{_esc(key)}"{mark}>{_esc(label)}</option>')
    # Safe: every value and label went through _esc (Django's conditional_escape without its
    # lazy-string wrapper, which cost more than the rest for a few hundred options).
    return mark_safe("".join(options))  # noqa: S308  # nosec B308 B703


def _esc(value) -> str:
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


@register.simple_tag(takes_context=True)
def form_field(context, field, wrapper_class: str = ""):
    """`{% include "_field.html" with field=... wrapper_class=... %}`, built in Python
    (servicedesk.fieldhtml); the model choices are read once per page render."""
    from servicedesk.fieldhtml import field_html

    # The first of the context's dicts is created afresh for every render and shared with the
    # templates it includes: one cache of option rows per page.
    cache = context.dicts[0].setdefault("_field_options", {})
    return field_html(field, wrapper_class, cache)
