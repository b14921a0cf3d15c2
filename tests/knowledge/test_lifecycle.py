"""The article lifecycle: transitions, permissions per role, versions, the log, and the
periodic review job (run twice)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.utils import InternalError
from django.utils import timezone

from knowledge import services, tasks
from knowledge.choices import ArticleEventKind, ArticleStatus
from knowledge.exceptions import IllegalArticleTransition
from knowledge.models import Article, ArticleEvent
from notifications.models import Notification
from tests.factories import UserFactory

from .helpers import draft, published


def kinds(article):
    return list(article.events.order_by("id").values_list("kind", flat=True))


def test_draft_review_publish_retire_revise(desk):
    article = draft(desk.tier1, symptom="断开", tags=["vpn", "VPN", " 远程办公 "])
    assert article.status == ArticleStatus.DRAFT
    assert sorted(article.tags.values_list("code", flat=True)) == ["vpn", "远程办公"]
    services.article_submit(article_id=article.pk, actor=desk.tier1)
    article = services.article_approve(article_id=article.pk, actor=desk.expert)
    assert (article.status, article.version) == (ArticleStatus.PUBLISHED, 1)
    asked = Notification.objects.filter(subject__startswith="Article to review")
    assert sorted(set(asked.values_list("recipient__username", flat=True))) == [
        "admin",
        "expert",
        "manager",
    ]
    assert article.review_due_on == timezone.localdate() + timedelta(days=180)
    assert article.versions.get().content["symptom"] == "断开"
    services.article_revise(article_id=article.pk, actor=desk.tier1)
    services.article_update(
        article_id=article.pk, actor=desk.tier1, data=services.ArticleInput(symptom="每小时断开")
    )
    services.article_submit(article_id=article.pk, actor=desk.tier1)
    article = services.article_approve(article_id=article.pk, actor=desk.tier2)
    assert [v.number for v in article.versions.order_by("number")] == [1, 2]
    assert article.versions.get(number=1).content["symptom"] == "断开"
    services.article_retire(article_id=article.pk, actor=desk.expert, reason="obsolete")
    assert kinds(article) == [
        ArticleEventKind.CREATED,
        ArticleEventKind.SUBMITTED,
        ArticleEventKind.APPROVED,
        ArticleEventKind.REVISED,
        ArticleEventKind.EDITED,
        ArticleEventKind.SUBMITTED,
        ArticleEventKind.APPROVED,
        ArticleEventKind.RETIRED,
    ]
    assert Article.objects.get(pk=article.pk).status == ArticleStatus.RETIRED


def test_reviewer_returns_with_comments_required(desk):
    article = draft(desk.tier1)
    services.article_submit(article_id=article.pk, actor=desk.tier1)
    with pytest.raises(ValidationError) as error:
        services.article_return(article_id=article.pk, actor=desk.expert, comment=" ")
    assert error.value.message_dict == {"comment": ["This field is required."]}
    article = services.article_return(
        article_id=article.pk, actor=desk.expert, comment="Add the cause."
    )
    assert (article.status, article.review_comment) == (ArticleStatus.DRAFT, "Add the cause.")


def test_nobody_approves_their_own_article(desk):
    article = draft(desk.expert)
    services.article_submit(article_id=article.pk, actor=desk.expert)
    with pytest.raises(IllegalArticleTransition):
        services.article_approve(article_id=article.pk, actor=desk.expert)


@pytest.mark.parametrize(
    ("who", "may_write", "may_review"),
    [
        ("requester", False, False),
        ("tier1", True, True),
        ("expert", True, True),
        ("engineer", True, True),
        ("manager", True, True),
        ("admin", True, True),
    ],
)
def test_permissions_per_role(desk, who, may_write, may_review):
    person = getattr(desk, who)
    if may_write:
        assert draft(person).created_by == person
    else:
        with pytest.raises(PermissionDenied):
            draft(person)
    article = draft(desk.tier2)
    services.article_submit(article_id=article.pk, actor=desk.tier2)
    if may_review:
        services.article_approve(article_id=article.pk, actor=person)
    else:
        with pytest.raises(IllegalArticleTransition):
            services.article_approve(article_id=article.pk, actor=person)


def test_qa_inspector_neither_writes_nor_reviews(desk):
    inspector = UserFactory(roles=["qa_inspector"])
    with pytest.raises(PermissionDenied):
        draft(inspector)


def test_another_agent_may_not_edit_someone_elses_draft_without_manage_knowledge(desk):
    from django.contrib.auth.models import Permission

    article = draft(desk.tier1)
    agent = UserFactory()
    agent.user_permissions.add(Permission.objects.get(codename="handle_tickets"))
    with pytest.raises(PermissionDenied):
        services.article_update(
            article_id=article.pk, actor=agent, data=services.ArticleInput(title="Mine now")
        )


def test_second_approval_is_refused(desk):
    article = draft(desk.tier1)
    services.article_submit(article_id=article.pk, actor=desk.tier1)
    services.article_approve(article_id=article.pk, actor=desk.expert)
    with pytest.raises(IllegalArticleTransition):
        services.article_approve(article_id=article.pk, actor=desk.tier2)
    assert Article.objects.get(pk=article.pk).version == 1


def test_only_drafts_are_edited_and_sections_are_bounded(desk):
    article = published(desk.tier1, desk.expert)
    with pytest.raises(IllegalArticleTransition):
        services.article_update(
            article_id=article.pk, actor=desk.tier1, data=services.ArticleInput(title="x")
        )
    with pytest.raises(ValidationError) as error:
        draft(desk.tier1, steps="x" * 1_000_001)
    assert error.value.message_dict["steps"] == ["At most 100000 characters (this has 1000001)."]


def test_script_tags_are_stored_as_written(desk):
    article = draft(desk.tier1, "<script>alert(1)</script>", steps="<script>x()</script>")
    article.refresh_from_db()
    assert (article.title, article.steps) == ("<script>alert(1)</script>", "<script>x()</script>")


def test_the_article_log_is_append_only(desk):
    article = draft(desk.tier1)
    event = ArticleEvent.objects.get(article=article)
    with pytest.raises(InternalError), connection.cursor() as cursor:
        cursor.execute("UPDATE knowledge_articleevent SET kind = 'x' WHERE id = %s", [event.pk])


# --- the periodic review (知识评审) ---------------------------------------------------------


def test_review_job_queues_due_articles_and_retires_stale_ones_once(desk):
    due = published(desk.tier1, desk.expert, "Due for review")
    stale = published(desk.tier1, desk.expert, "Stale")
    fresh = published(desk.tier1, desk.expert, "Fresh")
    long_ago = timezone.now() - timedelta(days=400)
    Article.objects.filter(pk=due.pk).update(review_due_on=timezone.localdate())
    Article.objects.filter(pk=stale.pk).update(
        published_at=long_ago, last_reviewed_at=long_ago, created_at=long_ago
    )
    Article.objects.filter(pk=fresh.pk).update(
        published_at=long_ago, last_reviewed_at=long_ago, last_used_at=timezone.now()
    )
    assert tasks.review_sweep() == {"review_due": 1, "retired": 1}
    review_notices = Notification.objects.filter(subject__startswith="Knowledge")
    notices = set(review_notices.values_list("recipient__username", "subject"))
    assert notices == {
        ("tier1", "Knowledge review due: Due for review"),
        ("tier1", "Knowledge article retired: Stale"),
    }
    assert tasks.review_sweep() == {"review_due": 0, "retired": 0}
    assert review_notices.count() == 4  # inbox and e-mail of each, not one more
    assert Article.objects.get(pk=stale.pk).status == ArticleStatus.RETIRED
    assert Article.objects.get(pk=fresh.pk).status == ArticleStatus.PUBLISHED
    assert kinds(Article.objects.get(pk=due.pk))[-1] == ArticleEventKind.REVIEW_DUE
    assert kinds(Article.objects.get(pk=stale.pk))[-1] == ArticleEventKind.AUTO_RETIRED


def test_a_review_confirms_with_a_new_date(desk):
    article = published(desk.tier1, desk.expert)
    Article.objects.filter(pk=article.pk).update(review_due_on=timezone.localdate())
    tasks.review_sweep()
    next_date = timezone.localdate() + timedelta(days=30)
    article = services.article_confirm_review(
        article_id=article.pk, actor=desk.expert, review_due_on=next_date
    )
    assert (article.review_due_on, article.review_notified_for) == (next_date, None)
    assert tasks.review_sweep() == {"review_due": 0, "retired": 0}
    with pytest.raises(ValidationError):
        services.article_confirm_review(
            article_id=article.pk, actor=desk.expert, review_due_on=timezone.localdate()
        )
