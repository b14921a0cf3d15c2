"""The knowledge API: suggest, articles and their actions, problems; bad input → 4xx JSON."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from knowledge.choices import ArticleStatus, Audience
from knowledge.models import Article, ArticleTicketLink
from tests.factories import TicketFactory

from .helpers import draft, public, published


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_suggest_ranks_and_scopes_by_audience(desk):
    shown = public(desk.tier1, desk.expert, "VPN disconnects every hour")
    hidden = published(desk.tier1, desk.expert, "VPN gateway failover", audience=Audience.INTERNAL)
    url = reverse("api-knowledge-suggest")
    body = api(desk.requester).get(url, {"q": "vpn"}).json()
    assert [r["id"] for r in body["results"]] == [shown.pk]
    assert body["results"][0]["score"] > 0
    agent = api(desk.tier1).get(url, {"q": "vpn", "limit": 1}).json()["results"]
    assert len(agent) == 1
    both = {r["id"] for r in api(desk.tier1).get(url, {"q": "vpn"}).json()["results"]}
    assert both == {shown.pk, hidden.pk}
    assert api(desk.tier1).get(url, {"q": "vpn", "lang": "zh-hans"}).json() == {"results": []}


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"q": "x", "limit": "0"}, {"limit": ["Ensure this value is greater than or equal to 1."]}),
        ({"q": "x", "limit": "abc"}, {"limit": ["A valid integer is required."]}),
        ({"q": "x", "lang": "fr"}, {"lang": ['"fr" is not a valid choice.']}),
    ],
)
def test_suggest_bad_parameters_are_400_with_field_messages(desk, params, errors):
    response = api(desk.tier1).get(reverse("api-knowledge-suggest"), params)
    assert (response.status_code, response.json()) == (400, errors)


@pytest.mark.parametrize("q", ["", "!!!", "'; select 1; --", "词" * 10_000])
def test_suggest_odd_queries_are_answered(desk, q):
    response = api(desk.tier1).get(reverse("api-knowledge-suggest"), {"q": q})
    assert response.status_code == 200
    assert response.json() == {"results": []}


def test_an_internal_article_by_id_is_not_found_for_a_requester(desk):
    internal = published(desk.tier1, desk.expert, audience=Audience.INTERNAL)
    a_draft = draft(desk.tier1, audience=Audience.PUBLIC)
    for article in (internal, a_draft):
        url = reverse("api-knowledge-article", args=[article.pk])
        assert api(desk.requester).get(url).status_code == 404
        assert api(desk.tier1).get(url).status_code == 200


def test_create_edit_submit_approve_through_the_api(desk):
    client = api(desk.tier1)
    response = client.post(
        reverse("api-knowledge-articles"),
        {
            "title": "<script>alert(1)</script> Outlook",
            "fix_script": "rm -rf / ; echo $(whoami) | tee `id` && curl x > /dev/null",
            "fix_language": "shell",
            "tags": ["mail"],
            "audience": "public",
            "system": desk.system.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["tags"], body["title"]) == (
        "draft",
        ["mail"],
        "<script>alert(1)</script> Outlook",
    )
    article_id = body["id"]
    patched = client.patch(
        reverse("api-knowledge-article", args=[article_id]), {"symptom": "Locked"}, format="json"
    )
    assert patched.json()["symptom"] == "Locked"
    assert client.post(reverse("api-knowledge-submit", args=[article_id])).status_code == 200
    approved = api(desk.expert).post(
        reverse("api-knowledge-approve", args=[article_id]), {}, format="json"
    )
    assert (approved.status_code, approved.json()["status"]) == (200, "published")
    again = api(desk.tier2).post(reverse("api-knowledge-approve", args=[article_id]), {})
    assert again.status_code == 409
    versions = client.get(reverse("api-knowledge-article-versions", args=[article_id])).json()
    assert [v["number"] for v in versions] == [1]


def test_bad_article_input_is_400_with_field_messages(desk):
    url = reverse("api-knowledge-articles")
    client = api(desk.tier1)
    assert client.post(url, {"symptom": "x"}, format="json").json() == {
        "title": ["This field is required."]
    }
    big = client.post(url, {"title": "Big", "steps": "x" * 1_000_000}, format="json")
    assert big.status_code == 400
    assert big.json() == {"steps": ["Ensure this field has no more than 100000 characters."]}
    assert client.post(url, {"title": "x", "audience": "everyone"}, format="json").json() == {
        "audience": ['"everyone" is not a valid choice.']
    }
    assert api(desk.requester).post(url, {"title": "x"}, format="json").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_one_wins_the_other_gets_409(desk):
    article = draft(desk.tier1)
    api(desk.tier1).post(reverse("api-knowledge-submit", args=[article.pk]))
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def approve(reviewer):
        client = api(reviewer)
        barrier.wait()
        try:
            statuses.append(
                client.post(reverse("api-knowledge-approve", args=[article.pk])).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(r,)) for r in (desk.expert, desk.tier2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    article.refresh_from_db()
    assert (article.status, article.version, article.versions.count()) == (
        ArticleStatus.PUBLISHED,
        1,
        1,
    )


def test_link_ticket_and_vote(desk):
    article = published(desk.tier1, desk.expert)
    ticket = TicketFactory(desk).in_progress()
    url = reverse("api-knowledge-link-ticket", args=[article.pk])
    assert api(desk.tier1).post(url, {"ticket": ticket.number}).json() == {"created": True}
    assert api(desk.tier1).post(url, {"ticket": ticket.number}).json() == {"created": False}
    assert api(desk.tier1).post(url, {"ticket": "SD-NOPE"}).json() == {
        "ticket": ["No such ticket."]
    }
    assert api(desk.requester).post(url, {"ticket": ticket.number}).status_code == 404
    assert Article.objects.get(pk=article.pk).use_count == 1
    assert ArticleTicketLink.objects.filter(ticket=ticket).count() == 1
    vote = reverse("api-knowledge-vote", args=[article.pk])
    api(desk.tier1).post(vote, {"helpful": True, "comment": "worked"})
    api(desk.tier1).post(vote, {"helpful": False})
    article.refresh_from_db()
    assert (article.helpful_count, article.unhelpful_count) == (0, 1)


def test_problem_api(desk):
    ticket = TicketFactory(desk).in_progress(title="ERP 月结报表导出超时")
    client = api(desk.tier1)
    created = client.post(
        reverse("api-knowledge-problems"),
        {"title": "ERP 月结报表导出慢", "root_cause": "缺少索引", "ticket": ticket.number},
        format="json",
    )
    assert created.status_code == 201
    problem = created.json()
    assert problem["ticket_count"] == 1
    transition = reverse("api-knowledge-problem-transition", args=[problem["id"]])
    assert client.post(transition, {"transition": "mark_fixed"}).json() == {
        "fix_note": ["This field is required."]
    }
    assert client.post(transition, {"transition": "close"}).status_code == 409
    fixed = client.post(transition, {"transition": "mark_fixed", "fix_note": "加了索引"})
    assert fixed.json()["status"] == "fixed"
    resolve = client.post(reverse("api-knowledge-problem-resolve", args=[problem["id"]]))
    assert resolve.json() == {"resolved": [ticket.number], "skipped": {}}
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution) == (
        "resolved",
        "Fixed at the root (ERP 月结报表导出慢): 加了索引",
    )
    assert api(desk.requester).get(reverse("api-knowledge-problems")).status_code == 403


def test_schema_documents_the_knowledge_endpoints(desk):
    schema = api(desk.tier1).get(reverse("api-schema"), {"format": "json"}).json()
    paths = {p for p in schema["paths"] if p.startswith("/api/knowledge/")}
    assert {
        "/api/knowledge/suggest/",
        "/api/knowledge/articles/",
        "/api/knowledge/articles/{article_id}/approve/",
        "/api/knowledge/problems/{problem_id}/resolve-linked/",
    } <= paths
