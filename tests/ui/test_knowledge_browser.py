"""Knowledge journeys in a real headless Chromium against a live server.

A requester types a request, sees a suggested article and marks it as the solution: no ticket
is created and the deflection is counted. An agent archives a resolved ticket as an article,
a reviewer publishes it, and it is then suggested for a similar new request.
"""

from __future__ import annotations

import pytest

from knowledge.choices import ArticleStatus
from knowledge.models import Article
from tests.factories import TicketFactory
from tests.knowledge.helpers import public
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _go(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_requester_solves_it_with_a_suggested_article(open_as, live_server, desk):
    article = public(
        desk.tier1,
        desk.expert,
        "修改密码后邮箱被锁定",
        symptom="Outlook 反复提示输入密码",
        steps="1. 在手机邮件 App 中更新密码。",
    )
    page = open_as(desk.requester)
    page.goto(f"{live_server.url}/portal/new/")
    page.fill("#id_title", "邮箱密码")
    page.locator("#id_title").press_sequentially("锁定了", delay=50)
    suggestions = page.locator("[data-testid=kb-portal-suggestions]")
    suggestions.wait_for()
    assert "修改密码后邮箱被锁定" in suggestions.inner_text()
    page.click("[data-testid=kb-open]")
    page.locator("[data-testid=kb-inline-article]").wait_for()
    assert (
        "在手机邮件 App 中更新密码" in page.locator("[data-testid=kb-inline-article]").inner_text()
    )
    _go(page, "[data-testid=kb-solved]")
    assert page.url == f"{live_server.url}/portal/"
    assert "No request was created" in page.locator("main").inner_text()
    assert not Ticket.objects.exists()
    article.refresh_from_db()
    assert (article.deflection_count, article.view_count) == (1, 1)


def test_archived_resolution_is_reviewed_published_and_then_suggested(open_as, live_server, desk):
    base = live_server.url
    ticket = TicketFactory(desk).resolved(
        title="ERP 月结报表导出超时", description="月末导出总账明细报表时页面转圈后超时"
    )
    agent = open_as(desk.tier1)
    agent.goto(f"{base}/workspace/tickets/{ticket.number}/")
    agent.locator("[data-testid=kb-panel]").wait_for()
    _go(agent, "[data-testid=kb-archive]")
    assert agent.input_value("#id_title") == "ERP 月结报表导出超时"
    agent.select_option("#id_audience", "public")
    _go(agent, "[data-testid=article-save]")
    _go(agent, "[data-testid=article-submit]")
    article = Article.objects.get()
    assert (article.status, article.source_ticket_id) == (ArticleStatus.IN_REVIEW, ticket.pk)

    reviewer = open_as(desk.expert)
    reviewer.goto(f"{base}/knowledge/review/")
    _go(reviewer, "[data-testid=review-in-review] a")
    reviewer.click("[data-testid=article-approve]")
    reviewer.wait_for_selector("#kb-approve.collapse.show")
    _go(reviewer, "[data-testid=submit-approve]")
    assert reviewer.locator("[data-testid=article-status]").inner_text() == "Published"

    requester = open_as(desk.other_requester)
    requester.goto(f"{base}/portal/new/")
    requester.locator("#id_title").press_sequentially("月结报表导出很慢", delay=30)
    suggestions = requester.locator("[data-testid=kb-portal-suggestions]")
    suggestions.wait_for()
    assert "ERP 月结报表导出超时" in suggestions.inner_text()
