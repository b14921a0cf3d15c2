"""Markdown → safe HTML. Article text is Markdown; the HTML it produces goes through the nh3
sanitiser with a short allow-list: a script tag anywhere in an article is dropped with its
content, other raw HTML is reduced to its text, and code blocks show markup as text."""

from __future__ import annotations

import markdown
import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "a",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Sanitised HTML of a Markdown text (headings start at h3: the page owns h1 and h2)."""
    if not text:
        return ""
    rendered = markdown.markdown(text, extensions=["fenced_code", "tables", "sane_lists"])
    for level in (2, 1):
        rendered = rendered.replace(f"<h{level}>", "<h3>").replace(f"</h{level}>", "</h3>")
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
