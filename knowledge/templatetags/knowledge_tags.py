"""Template filters of the knowledge pages."""

from django import template
from django.utils.safestring import mark_safe

from ..rendering import render_markdown

register = template.Library()


@register.filter
def markdown(text: str) -> str:
    """Article Markdown as sanitised HTML (knowledge.rendering)."""
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3 just before  # nosec B308 B703
