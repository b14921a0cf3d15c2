"""Template helpers of the web UI."""

from __future__ import annotations

import html
from threading import Lock
from urllib.parse import urlencode

from django import template
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

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


@register.simple_tag
def widget(field):
    """`{{ field }}` (the widget alone), built in Python where servicedesk.fieldhtml can: the
    queue's search box went through Django's widget templates on every page."""
    from servicedesk.fieldhtml import widget_html

    markup = widget_html(field)
    # Safe: widget_html escapes every value, as the widget templates do.
    return str(field) if markup is None else mark_safe(markup)  # noqa: S308  # nosec B308 B703


# Rendered fragments by key; bounded (the keys are few: sections × role sets × languages).
_fragments: dict[tuple, str] = {}
_FRAGMENTS_MAX = 2_000
_lock = Lock()


def _hashable(value):
    """A key part for any value a template may hold (the reports pass their `nav` as a list)."""
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _hashable(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class MemoNode(template.Node):
    def __init__(self, name: str, key_vars: list, nodelist, unless=None):
        self.name, self.key_vars, self.nodelist, self.unless = name, key_vars, nodelist, unless

    def render(self, context) -> str:
        if self.unless is not None and self.unless.resolve(context):
            return self.nodelist.render(context)  # this time it depends on more: not kept
        key = (
            self.name,
            get_language(),
            get_script_prefix(),
            *(_hashable(var.resolve(context)) for var in self.key_vars),
        )
        html = _fragments.get(key)
        if html is None:
            html = self.nodelist.render(context)
            with _lock:
                if len(_fragments) >= _FRAGMENTS_MAX:
                    _fragments.clear()
                _fragments[key] = html
        # Safe: the nodelist's own rendering, escaped by the template engine.
        return mark_safe(html)  # noqa: S308  # nosec B308 B703


@register.tag
def memo(parser, token):
    """`{% memo "name" value ... %}…{% endmemo %}`: the enclosed markup rendered once per
    process for each combination of the values, the active language and the script prefix,
    then reused. For fragments every page repeats (the workspace's menu: ~25 URLs, permission
    checks and translations per page). The values must be everything the fragment reads: no
    user, request or CSRF token inside, or another person would be shown it. A last argument
    `unless=value` renders the fragment afresh, and does not keep it, when the value is true
    (a form sent back with its input and errors)."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% memo %} needs a name")
    unless = None
    if bits[-1].startswith("unless="):
        unless = parser.compile_filter(bits.pop()[len("unless=") :])
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(bits[1], [parser.compile_filter(bit) for bit in bits[2:]], nodelist, unless)


def memo_clear() -> None:
    """Forget every fragment (tests that change the URLs or translations)."""
    with _lock:
        _fragments.clear()
