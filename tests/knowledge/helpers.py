"""Builders for the knowledge tests: articles at a known place of their lifecycle."""

from __future__ import annotations

from knowledge import services
from knowledge.choices import Audience


def draft(author, title="VPN 连接后频繁断开", **fields):
    return services.article_create(actor=author, data=services.ArticleInput(title=title, **fields))


def published(author, reviewer, title="VPN 连接后频繁断开", **fields):
    article = draft(author, title, **fields)
    services.article_submit(article_id=article.pk, actor=author)
    return services.article_approve(article_id=article.pk, actor=reviewer)


def public(author, reviewer, title, **fields):
    return published(author, reviewer, title, audience=Audience.PUBLIC, **fields)
