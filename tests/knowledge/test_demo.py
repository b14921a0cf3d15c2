"""The demo desk's knowledge base: 40 articles in two languages, seeded once."""

from __future__ import annotations

from knowledge import selectors
from knowledge.demo_seed import knowledge_demo_seed
from knowledge.models import Article, Problem


def test_demo_seed_is_bilingual_searchable_and_idempotent(desk):
    assert knowledge_demo_seed(owner=desk.expert) == 40
    assert knowledge_demo_seed(owner=desk.expert) == 0
    assert Article.objects.filter(language="en").count() == 20
    assert Article.objects.filter(translation_of__isnull=False).count() == 20
    assert Problem.objects.count() == 1
    hits = selectors.article_search(viewer=desk.requester, query="修改密码后邮箱被锁定")
    assert hits[0].article.external_id == "demo-kb-outlook-password-zh-hans"
    hits = selectors.article_search(viewer=desk.requester, query="outlook password locked")
    assert hits[0].article.external_id == "demo-kb-outlook-password-en"
    assert Article.objects.get(external_id="demo-kb-trading-cert-zh-hans").system == desk.system
