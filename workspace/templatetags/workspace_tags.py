"""Template helpers of the agent workspace."""

from __future__ import annotations

from threading import Lock

from django import template
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# Rendered fragments by key; bounded (the keys are few: sections × role sets × languages).
_fragments: dict[tuple, str] = {}
_FRAGMENTS_MAX = 2_000
_lock = Lock()


class MemoNode(template.Node):
    def __init__(self, name: str, key_vars: list, nodelist):
        self.name, self.key_vars, self.nodelist = name, key_vars, nodelist

    def render(self, context) -> str:
        key = (
            self.name,
            get_language(),
            get_script_prefix(),
            *(var.resolve(context) for var in self.key_vars),
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
    user, request or CSRF token inside, or another person would be shown it."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% memo %} needs a name")
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(bits[1], [parser.compile_filter(bit) for bit in bits[2:]], nodelist)


def memo_clear() -> None:
    """Forget every fragment (tests that change the URLs or translations)."""
    with _lock:
        _fragments.clear()
