"""Every message the knowledge base sends, one function per kind, each with a stable dedupe key
(so a job that runs twice tells nobody twice, and the lead can route them through rules)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from notifications.choices import Channel
from notifications.services import notify

from .models import Article, ArticleVote, Problem

# To the people concerned only: a knowledge notice is not for a team's chat group.
PERSONAL = (Channel.INBOX, Channel.EMAIL)


def _url(path: str) -> str:
    return settings.SERVICEDESK["PUBLIC_BASE_URL"].rstrip("/") + path


def _article_url(article: Article) -> str:
    return _url(reverse("knowledge:article", args=[article.pk]))


def notify_review_due(article: Article) -> list[int]:
    """The owner is asked to review an article whose review date has passed (知识评审)."""
    return notify(
        recipients=[article.owner or article.created_by],
        subject=_("Knowledge review due: %(title)s") % {"title": article.title[:120]},
        body=_("The article's review date %(date)s has passed: confirm it, edit it or retire it.")
        % {"date": article.review_due_on},
        url=_article_url(article),
        channels=PERSONAL,
        dedupe_key=f"knowledge.review_due:{article.pk}:{article.review_due_on}",
    )


def notify_auto_retired(article: Article) -> list[int]:
    """The owner is told an unused, unreviewed article was retired automatically."""
    return notify(
        recipients=[article.owner or article.created_by],
        subject=_("Knowledge article retired: %(title)s") % {"title": article.title[:120]},
        body=_("It was neither used nor reviewed for a long time. Revise it to publish it again."),
        url=_article_url(article),
        channels=PERSONAL,
        dedupe_key=f"knowledge.auto_retired:{article.pk}:{article.retired_at:%Y%m%d%H%M%S}",
    )


def notify_vote_comment(vote: ArticleVote) -> list[int]:
    """A vote with a comment reaches the article's owner (the comment is for the desk only)."""
    article = vote.article
    subject = (_("Helpful: %(title)s") if vote.helpful else _("Not helpful: %(title)s")) % {
        "title": article.title[:120]
    }
    return notify(
        recipients=[article.owner or article.created_by],
        subject=subject,
        body=vote.comment,
        url=_article_url(article),
        channels=PERSONAL,
        dedupe_key=f"knowledge.vote:{vote.pk}:{vote.created_at:%Y%m%d%H%M%S%f}",
    )


def notify_review_requested(article: Article, reviewers) -> list[int]:
    """Reviewers hear about an article waiting for their approval."""
    return notify(
        recipients=reviewers,
        subject=_("Article to review: %(title)s") % {"title": article.title[:120]},
        body=_("Approve it or return it to the author with your comments."),
        url=_article_url(article),
        channels=PERSONAL,
        dedupe_key=f"knowledge.review_requested:{article.pk}:{article.submitted_by_id}:"
        f"{article.updated_at:%Y%m%d%H%M%S%f}",
    )


def notify_problem_fixed(problem: Problem, tickets) -> list[int]:
    """The agents of the open tickets linked to a fixed problem are told (internal)."""
    recipients = {t.assignee for t in tickets if t.assignee_id}
    if not recipients:
        return []
    return notify(
        recipients=recipients,
        subject=_("Problem fixed: %(title)s") % {"title": problem.title[:120]},
        body=problem.fix_note,
        url=_url(reverse("knowledge:problem", args=[problem.pk])),
        channels=PERSONAL,
        dedupe_key=f"knowledge.problem_fixed:{problem.pk}:{problem.fixed_at:%Y%m%d%H%M%S}",
    )
