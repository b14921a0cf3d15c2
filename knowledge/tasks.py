"""The periodic review of the knowledge base (知识评审), fanned out: the scan finds due ids
through the partial index, each article is then locked, re-checked and marked by a service,
so running the job twice (or two beats at once) changes nothing the second time."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from servicedesk.tasks import desk_task

from .choices import ArticleStatus
from .models import Article
from .services import article_auto_retire, article_mark_review_due, knowledge_settings

BATCH = 5_000


@desk_task("knowledge.review_sweep", soft_time_limit=600, time_limit=660)
def review_sweep() -> dict[str, int]:
    """Put articles past their review date in the review queue (owners told), and retire
    those neither used nor reviewed for RETIRE_UNUSED_AFTER_DAYS (owners told)."""
    today = timezone.localdate()
    due = (
        Article.objects.filter(status=ArticleStatus.PUBLISHED, review_due_on__lte=today)
        .exclude(review_notified_for=F("review_due_on"))
        .values_list("pk", flat=True)[:BATCH]
    )
    queued = sum(article_mark_review_due(article_id=pk) for pk in list(due))
    cutoff = timezone.now() - timedelta(days=knowledge_settings()["RETIRE_UNUSED_AFTER_DAYS"])
    stale = (
        Article.objects.filter(status=ArticleStatus.PUBLISHED)
        .exclude(last_used_at__gt=cutoff)
        .exclude(last_reviewed_at__gt=cutoff)
        .exclude(published_at__gt=cutoff)
        .values_list("pk", flat=True)[:BATCH]
    )
    retired = sum(article_auto_retire(article_id=pk) for pk in list(stale))
    return {"review_due": queued, "retired": retired}


@desk_task("knowledge.term_stats", soft_time_limit=300, time_limit=360)
def term_stats() -> int:
    """Refresh the document frequencies search uses to skip common terms (idempotent: it
    recomputes the same numbers from the same articles)."""
    from .selectors import term_stats_refresh

    return len(term_stats_refresh()["shares"])
