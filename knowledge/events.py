"""The append-only logs of articles and problems, written by the services."""

from __future__ import annotations

from typing import Any

from .models import Article, ArticleEvent, Problem, ProblemEvent


def article_event_record(
    *, article: Article, kind: str, actor=None, message: str = "", data: dict | None = None
) -> ArticleEvent:
    """Append one entry to the article's log (in the caller's transaction)."""
    return ArticleEvent.objects.create(
        article=article, kind=kind, actor=actor, message=message, data=_json(data or {})
    )


def problem_event_record(
    *, problem: Problem, kind: str, actor=None, message: str = "", data: dict | None = None
) -> ProblemEvent:
    """Append one entry to the problem's log (in the caller's transaction)."""
    return ProblemEvent.objects.create(
        problem=problem, kind=kind, actor=actor, message=message, data=_json(data or {})
    )


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
