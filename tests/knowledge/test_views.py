"""The knowledge pages through Django's test client: workspace, portal, ticket-page panel."""

from __future__ import annotations

from django.urls import reverse

from knowledge import problem_services, services
from knowledge.choices import ArticleStatus, Audience, LinkKind
from knowledge.models import Article, ArticleTicketLink, Deflection, Problem
from tests.factories import TicketFactory
from tickets.models import Ticket

from .helpers import draft, public, published

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_workspace_pages_are_for_the_desk(client, desk):
    article = published(desk.tier1, desk.expert)
    client.force_login(desk.requester)
    for url in (
        reverse("knowledge:articles"),
        reverse("knowledge:article", args=[article.pk]),
        reverse("knowledge:review"),
        reverse("knowledge:problems"),
    ):
        assert client.get(url).status_code == 403, url
    client.force_login(desk.tier1)
    for url in (
        reverse("knowledge:articles"),
        reverse("knowledge:articles") + "?q=vpn",
        reverse("knowledge:article", args=[article.pk]),
        reverse("knowledge:article_new"),
        reverse("knowledge:review"),
        reverse("knowledge:problems"),
        reverse("knowledge:problem_new"),
    ):
        assert client.get(url).status_code == 200, url


def test_article_page_renders_scripts_inert_and_shows_the_fix_script(client, desk):
    article = published(
        desk.tier1,
        desk.expert,
        "<script>alert('t')</script>Mail",
        symptom="<script>alert('s')</script>**locked**",
        fix_script="rm -rf /tmp/x; echo $(id) | tee `date` && <b>",
        fix_language="shell",
    )
    client.force_login(desk.tier1)
    html = client.get(reverse("knowledge:article", args=[article.pk])).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;Mail" in html
    assert "<strong>locked</strong>" in html
    assert "rm -rf /tmp/x; echo $(id) | tee `date` &amp;&amp; &lt;b&gt;" in html
    assert Article.objects.get(pk=article.pk).view_count == 1


def test_new_article_form_errors_and_save(client, desk):
    client.force_login(desk.tier1)
    response = client.post(reverse("knowledge:article_new"), {"title": " ", "language": "en"})
    assert response.status_code == 400
    assert response.context["form"].errors["title"] == ["This field is required."]
    response = client.post(
        reverse("knowledge:article_new"),
        {"title": "Printer jam", "language": "en", "audience": "public", "tags": "printer, 打印机"},
    )
    article = Article.objects.get()
    assert response["Location"] == reverse("knowledge:article", args=[article.pk])
    assert sorted(article.tags.values_list("code", flat=True)) == ["printer", "打印机"]


def test_review_flow_through_the_pages(client, desk):
    article = draft(desk.tier1)
    client.force_login(desk.tier1)
    client.post(reverse("knowledge:article_act", args=[article.pk, "submit"]))
    client.force_login(desk.expert)
    review = client.get(reverse("knowledge:review"))
    assert [a.pk for a in review.context["in_review"]] == [article.pk]
    bad = client.post(reverse("knowledge:article_act", args=[article.pk, "return"]), {})
    assert bad.status_code == 400
    client.post(reverse("knowledge:article_act", args=[article.pk, "approve"]), {})
    assert Article.objects.get(pk=article.pk).status == ArticleStatus.PUBLISHED
    # A second approval is refused with a message, not an error page.
    again = client.post(reverse("knowledge:article_act", args=[article.pk, "approve"]), {})
    assert again.status_code == 302


def test_diff_between_two_versions(client, desk):
    article = published(desk.tier1, desk.expert, symptom="old line")
    services.article_revise(article_id=article.pk, actor=desk.tier1)
    services.article_update(
        article_id=article.pk, actor=desk.tier1, data=services.ArticleInput(symptom="new line")
    )
    services.article_submit(article_id=article.pk, actor=desk.tier1)
    services.article_approve(article_id=article.pk, actor=desk.expert)
    client.force_login(desk.tier1)
    response = client.get(reverse("knowledge:article_diff", args=[article.pk]), {"a": 1, "b": 2})
    assert response.context["sections"] == [("symptom", [("-", "old line"), ("+", "new line")])]
    assert (
        client.get(reverse("knowledge:article_diff", args=[article.pk]), {"a": 9}).status_code
        == 404
    )


# --- portal ---------------------------------------------------------------------------------


def test_portal_suggestions_show_public_articles_only(client, desk):
    shown = public(desk.tier1, desk.expert, "邮箱密码过期怎么办")
    published(desk.tier1, desk.expert, "邮箱服务器内部处理", audience=Audience.INTERNAL)
    client.force_login(desk.requester)
    response = client.get(
        reverse("knowledge:portal_suggest"),
        {"title": "邮箱登录不了", "description": "提示密码错误"},
        **HTMX,
    )
    assert [h.article.pk for h in response.context["hits"]] == [shown.pk]
    assert 'data-testid="kb-solved"' in response.content.decode()
    empty = client.get(reverse("knowledge:portal_suggest"), {"title": "", "description": ""})
    assert empty.content.decode().strip() == ""


def test_this_solved_my_problem_creates_no_ticket_and_counts(client, desk):
    article = public(desk.tier1, desk.expert, "VPN reconnect")
    client.force_login(desk.requester)
    response = client.post(
        reverse("knowledge:help_solved", args=[article.pk]), {"q": "vpn drops"}, **HTMX
    )
    assert (response.status_code, response["HX-Redirect"]) == (204, reverse("portal:home"))
    assert not Ticket.objects.exists()
    assert Article.objects.get(pk=article.pk).deflection_count == 1
    assert Deflection.objects.get().query == "vpn drops"


def test_portal_never_shows_internal_articles(client, desk):
    internal = published(desk.tier1, desk.expert, audience=Audience.INTERNAL)
    client.force_login(desk.requester)
    assert client.get(reverse("knowledge:help_article", args=[internal.pk])).status_code == 404
    assert client.post(reverse("knowledge:help_solved", args=[internal.pk])).status_code == 404
    assert client.get(reverse("knowledge:help"), {"q": "VPN"}).context["hits"] == []


def test_portal_article_page_counts_views_and_votes(client, desk):
    article = public(desk.tier1, desk.expert, "Reset your password")
    client.force_login(desk.requester)
    assert client.get(reverse("knowledge:help_article", args=[article.pk])).status_code == 200
    client.post(reverse("knowledge:help_vote", args=[article.pk]), {"helpful": "1"})
    client.post(reverse("knowledge:help_vote", args=[article.pk]), {"helpful": "1"})
    article.refresh_from_db()
    assert (article.view_count, article.helpful_count) == (1, 1)


# --- the agent's ticket page ----------------------------------------------------------------


def test_ticket_page_loads_the_panel_lazily(client, desk):
    ticket = TicketFactory(desk).in_progress(title="VPN 每小时断开")
    client.force_login(desk.tier1)
    page = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert reverse("knowledge:ticket_panel", args=[ticket.number]) in page


def test_ticket_panel_suggests_links_and_inserts(client, desk, django_assert_max_num_queries):
    article = published(desk.tier1, desk.expert, "VPN 断开重连", steps="1. 重装客户端")
    for n in range(8):
        published(desk.tier1, desk.expert, f"VPN 证书过期 {n}")
    ticket = TicketFactory(desk).in_progress(title="VPN 每小时断开")
    client.force_login(desk.tier1)
    url = reverse("knowledge:ticket_panel", args=[ticket.number])
    # session, viewer, permissions, the ticket in the viewer's scope (5), links, search (2),
    # linked problems, similar problems
    with django_assert_max_num_queries(14):
        response = client.get(url, **HTMX)
    hits = response.context["hits"]
    assert len(hits) == 5
    assert hits[0].article.pk == article.pk
    assert 'data-kb-insert="1. 重装客户端"' in response.content.decode()
    linked = client.post(reverse("knowledge:ticket_link", args=[ticket.number, article.pk]), **HTMX)
    assert [link.article_id for link in linked.context["links"]] == [article.pk]
    assert article.pk not in [h.article.pk for h in linked.context["hits"]]
    assert Article.objects.get(pk=article.pk).use_count == 1


def test_ticket_panel_is_not_for_other_agents_tickets_or_requesters(client, desk):
    ticket = TicketFactory(desk).in_progress()
    client.force_login(desk.requester)
    assert client.get(reverse("knowledge:ticket_panel", args=[ticket.number])).status_code == 403
    client.force_login(desk.outsider_agent)
    assert client.get(reverse("knowledge:ticket_panel", args=[ticket.number])).status_code == 404


def test_archive_a_resolved_ticket_as_an_article(client, desk):
    ticket = TicketFactory(desk).resolved(
        title="Outlook 反复提示输入密码", description="改完域密码后出现"
    )
    client.force_login(desk.tier1)
    form = client.get(reverse("knowledge:article_from_ticket", args=[ticket.number]))
    initial = form.context["form"].initial
    assert (initial["title"], initial["symptom"], initial["steps"]) == (
        "Outlook 反复提示输入密码",
        "改完域密码后出现",
        "Reinstalled the VPN client.",
    )
    response = client.post(
        reverse("knowledge:article_from_ticket", args=[ticket.number]),
        {**{k: v for k, v in initial.items() if v is not None}, "audience": "internal"},
    )
    article = Article.objects.get()
    assert response["Location"] == reverse("knowledge:article", args=[article.pk])
    assert article.source_ticket == ticket
    assert ArticleTicketLink.objects.get().kind == LinkKind.CREATED_FROM


def test_update_the_linked_article_from_a_closed_ticket(client, desk):
    article = published(desk.tier1, desk.expert, steps="Old steps")
    ticket = TicketFactory(desk).closed()
    services.article_link_ticket(article_id=article.pk, ticket=ticket, actor=desk.tier1)
    client.force_login(desk.tier1)
    response = client.post(
        reverse("knowledge:ticket_update_article", args=[ticket.number, article.pk])
    )
    assert response["Location"] == reverse("knowledge:article_edit", args=[article.pk])
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT
    assert article.steps == f"Old steps\n\nFrom {ticket.number}:\nReinstalled the VPN client."


def test_problem_pages_link_and_resolve_together(client, desk):
    first = TicketFactory(desk).in_progress(title="ERP 报表导出超时")
    second = TicketFactory(desk).in_progress(title="ERP 报表导出超时 again")
    client.force_login(desk.tier1)
    client.post(
        reverse("knowledge:problem_new") + f"?ticket={first.number}",
        {"title": "ERP 报表导出超时 缺陷", "root_cause": "索引缺失"},
    )
    problem = Problem.objects.get()
    panel = client.get(reverse("knowledge:ticket_panel", args=[second.number]), **HTMX)
    assert [p.pk for p in panel.context["similar_problems"]] == [problem.pk]
    client.post(
        reverse("knowledge:ticket_problem", args=[second.number]), {"problem": problem.pk}, **HTMX
    )
    assert Problem.objects.get().ticket_count == 2
    client.post(
        reverse("knowledge:problem_act", args=[problem.pk, "mark_fixed"]), {"fix_note": "加索引"}
    )
    client.post(reverse("knowledge:problem_act", args=[problem.pk, "resolve_linked"]))
    assert set(Ticket.objects.values_list("status", flat=True)) == {"resolved"}
    page = client.get(reverse("knowledge:problem", args=[problem.pk]))
    assert page.status_code == 200


def test_problem_list_ranks_by_linked_tickets(client, desk):
    small = problem_services.problem_create(
        actor=desk.expert, data=problem_services.ProblemInput(title="Small")
    )
    big = problem_services.problem_create(
        actor=desk.expert, data=problem_services.ProblemInput(title="Big")
    )
    for n in range(2):
        problem_services.problem_link_ticket(
            problem_id=big.pk,
            ticket=TicketFactory(desk).in_progress(title=f"t{n}"),
            actor=desk.tier1,
        )
    client.force_login(desk.expert)
    response = client.get(reverse("knowledge:problems"))
    assert [p.pk for p in response.context["problems"]] == [big.pk, small.pk]


def test_pages_speak_chinese(client, desk):
    article = published(desk.tier1, desk.expert, symptom="断开")
    client.force_login(desk.tier1)
    client.post(reverse("set_language"), {"language": "zh-hans"})
    html = client.get(reverse("knowledge:article", args=[article.pk])).content.decode()
    assert "故障现象" in html
    assert "已发布" in html
    assert "知识库" in client.get(reverse("knowledge:articles")).content.decode()
