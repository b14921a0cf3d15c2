"""Reads of the knowledge base, always scoped by the viewer.

Who sees what: requesters see published public articles; desk staff (agents, reviewers,
managers) also see internal ones, and every draft, review and retired article in the
workspace. `article_search` is the one ranking everyone uses (portal, ticket page, API, list);
a desk that outgrows PostgreSQL full text replaces its body with a call to OpenSearch or
Elasticsearch and keeps this signature (docs/knowledge.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import User
from tickets.models import Ticket

from . import search
from .choices import ArticleStatus, Audience, ProblemStatus
from .models import Article, ArticleTicketLink, ArticleVersion, Problem, ProblemTicketLink

# Trigram matching on the title catches typos and partial words of short queries; a long
# description only slows it and matches noise.
TRIGRAM_MAX_QUERY_CHARS = 64
# ...and select titles only when the words found fewer articles than this (a typo, or a word
# still being typed); on a common word they would only make PostgreSQL recheck thousands of
# titles for what the full text already found.
TRIGRAM_FALLBACK_BELOW = 5
MAX_LIMIT = 50


def is_desk_staff(viewer: User | None) -> bool:
    return bool(
        viewer
        and viewer.is_authenticated
        and (
            viewer.has_perm("accounts.handle_tickets")
            or viewer.has_perm("accounts.manage_knowledge")
            or viewer.has_perm("accounts.view_reports")
        )
    )


def audiences_for(viewer: User | None) -> list[str]:
    if is_desk_staff(viewer):
        return [Audience.PUBLIC, Audience.INTERNAL]
    return [Audience.PUBLIC]


def visible_articles(viewer: User | None) -> QuerySet[Article]:
    """Every article the viewer may open."""
    queryset = Article.objects.all()
    if is_desk_staff(viewer):
        return queryset
    return queryset.filter(status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC)


def article_get(*, viewer: User | None, article_id: int) -> Article:
    """One article in the viewer's scope (Article.DoesNotExist otherwise: never a hint that
    an internal article exists)."""
    return (
        visible_articles(viewer)
        .select_related("owner", "created_by", "system", "module", "category", "scenario")
        .prefetch_related("tags")
        .get(pk=article_id)
    )


@dataclass
class ArticleFilters:
    status: str = ""
    language: str = ""
    audience: str = ""
    system: int | None = None
    owner: int | None = None
    review_due: bool = False


def article_list(*, viewer: User, filters: ArticleFilters | None = None) -> QuerySet[Article]:
    """The workspace's article list (newest first), in the viewer's scope."""
    filters = filters or ArticleFilters()
    queryset = visible_articles(viewer).select_related("owner", "system")
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.language:
        queryset = queryset.filter(language=filters.language)
    if filters.audience:
        queryset = queryset.filter(audience=filters.audience)
    if filters.system:
        queryset = queryset.filter(system_id=filters.system)
    if filters.owner:
        queryset = queryset.filter(owner_id=filters.owner)
    if filters.review_due:
        queryset = queryset.filter(
            status=ArticleStatus.PUBLISHED, review_notified_for__isnull=False
        ).order_by("review_due_on", "id")
    return queryset


def review_queue(*, viewer: User) -> dict[str, QuerySet[Article]]:
    """What reviewers act on: articles submitted for review, and published ones whose
    periodic review is due."""
    scope = visible_articles(viewer).select_related("owner", "submitted_by")
    return {
        "in_review": scope.filter(status=ArticleStatus.IN_REVIEW).order_by("updated_at"),
        "review_due": scope.filter(
            status=ArticleStatus.PUBLISHED, review_notified_for__isnull=False
        ).order_by("review_due_on", "id"),
    }


@dataclass
class Hit:
    """One ranked search result."""

    article: Article
    score: float


# A term in more than this share of the published articles says little about any of them:
# it still counts in the rank, but does not select candidates (an OR over it would make
# PostgreSQL rank a large part of the corpus). The uncommon terms select, rarest first, until
# together they are expected to match FILTER_BUDGET articles (PostgreSQL reads every article
# a selecting term matches: at 100,000 articles a long description OR-ing ten words of 3 %
# each made it read a third of the corpus; a small desk stays under the budget and selects
# by every uncommon term). Ranked: the newest CANDIDATES articles with a selecting term in
# their title or symptom, and the newest CANDIDATES with one anywhere.
COMMON_SHARE = 0.04
FILTER_BUDGET = 2_000
# Document frequencies are kept for terms above this share; a term below it is assumed at
# half of it.
STATS_MIN_SHARE = 0.0025
CANDIDATES = 400
TERM_STATS_KEY = "knowledge:term-stats:v2"
TERM_STATS_SECONDS = 6 * 3600
_term_stats_memo: dict = {"at": 0.0, "value": None}

_SEARCH_SQL = """
WITH q AS (SELECT %(tsquery)s::tsquery AS query),
scope AS NOT MATERIALIZED (
  SELECT a.id, a.search_vector, a.head_vector, a.title FROM knowledge_article a
  WHERE a.status = 'published' AND a.audience = ANY(%(audiences)s)
    AND (%(language)s = '' OR a.language = %(language)s)
),
candidates AS (
  (SELECT s.id FROM scope s WHERE s.head_vector @@ %(filter)s::tsquery
   ORDER BY {order} DESC LIMIT %(candidates)s)
  UNION
  (SELECT s.id FROM scope s WHERE %(filter_all)s AND s.search_vector @@ %(filter)s::tsquery
   ORDER BY {order} DESC LIMIT %(candidates)s)
  UNION
  (SELECT s.id FROM scope s WHERE %(trigram_select)s AND s.title %% %(raw)s
   ORDER BY {order} DESC LIMIT %(candidates)s)
)
SELECT a.id,
  (ts_rank('{0.1, 0.3, 0.5, 1.0}', a.search_vector, q.query, 1)
     + CASE WHEN %(trigram_rank)s THEN 0.5 * similarity(a.title, %(raw)s) ELSE 0 END)
  * (1 + 0.1 * ln(1 + a.use_count + a.deflection_count))
  * (0.75 + 0.5 * (a.helpful_count + 1.0) / (a.helpful_count + a.unhelpful_count + 2.0))
  * (CASE WHEN %(system)s::bigint IS NOT NULL AND a.system_id = %(system)s::bigint
          THEN 1.3 ELSE 1 END)
  * (CASE WHEN %(category)s::bigint IS NOT NULL AND a.category_id = %(category)s::bigint
          THEN 1.15 ELSE 1 END) AS score
FROM knowledge_article a JOIN candidates c ON c.id = a.id, q
ORDER BY score DESC, a.id DESC
LIMIT %(limit)s
"""
# PostgreSQL picks how to find the newest candidates from its statistics: for a common term it
# walks the primary key backwards until 400 match, cheaper than reading the thousands of
# articles the term matches. With a language filter the statistics mislead it (a Chinese
# word never matches an English article, yet counts as matching half of them), and the walk
# would read the whole table: then the candidates are read through the GIN indexes only
# (`id + 0` cannot walk the key), work bounded by what the terms match.
_SEARCH_SQL_PLANNED = _SEARCH_SQL.replace("{order}", "s.id")
_SEARCH_SQL_INDEXED = _SEARCH_SQL.replace("{order}", "s.id + 0")
_TERM_STATS_SQL = (
    "SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM knowledge_article "
    "WHERE status = ''published''') WHERE ndoc > %s"
)


def term_stats_refresh() -> dict:
    """Document frequencies of the common lexemes of published articles (share of articles),
    stored in the cache for `article_search`. Run by the beat job `knowledge.term_stats`."""
    from django.core.cache import cache

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM knowledge_article WHERE status = 'published'")
        total = cursor.fetchone()[0]
        shares: dict[str, float] = {}
        if total:
            cursor.execute(_TERM_STATS_SQL, [max(5, int(total * STATS_MIN_SHARE))])
            shares = {word: ndoc / total for word, ndoc in cursor.fetchall()}
    value = {"total": total, "shares": shares}
    cache.set(TERM_STATS_KEY, value, TERM_STATS_SECONDS * 2)
    _term_stats_memo.update(at=time.monotonic(), value=value)
    return value


def term_stats() -> dict:
    """The cached document frequencies, {"total": articles, "shares": {term: share}} (read
    at most once a minute per process); empty until the job ran (then every term selects
    candidates)."""
    if _term_stats_memo["value"] is None or time.monotonic() - _term_stats_memo["at"] > 60:
        from django.core.cache import cache

        try:
            value = cache.get(TERM_STATS_KEY)
        except Exception:  # Redis down: search still works, only less selective
            value = None
        _term_stats_memo.update(at=time.monotonic(), value=value or {"shares": {}})
    return _term_stats_memo["value"]


def article_search(
    *,
    viewer: User | None,
    query: str,
    language: str = "",
    system_id: int | None = None,
    category_id: int | None = None,
    limit: int = 5,
    audiences: list[str] | None = None,
) -> list[Hit]:
    """Published articles matching `query`, best first, within the viewer's audience.

    Score: the weighted full-text rank (title > symptom > tags/scenario/system > rest) plus
    the title's trigram similarity for short Latin queries (titles are also selected by
    trigrams when the words found fewer than 5 articles: a typo), times a small boost for
    use (links + deflections, logarithmic) and for helpfulness (votes, smoothed), and for the
    ticket's system and category when given. Candidates are the articles with one of the
    query's rarest uncommon terms (`_filter_query`): the newest 400 with it in the title or
    symptom and the newest 400 with it anywhere (a query of common words only: the newest
    400 with its two rarest in the title or symptom). An empty or
    punctuation-only query finds nothing; a long one is cut and reduced to its keywords
    (knowledge.search).
    """
    raw = (query or "").strip()[: search.QUERY_MAX_CHARS]
    terms = search.query_terms(raw)
    if not terms:
        return []
    allowed = audiences_for(viewer)
    if audiences is not None:
        allowed = [a for a in audiences if a in allowed]
    short = len(raw) <= TRIGRAM_MAX_QUERY_CHARS
    filter_query, filter_all = _filter_query(terms, prefix_last=short)
    # Trigrams catch Latin typos and partial words; on Chinese text they only cost time.
    latin_short = short and not search._HANZI.search(raw)
    params = {
        "tsquery": search.tsquery_literal(terms, prefix_last=short),
        "filter": filter_query,
        "filter_all": filter_all,
        "raw": raw,
        "trigram_rank": latin_short,
        "trigram_select": False,
        "audiences": allowed,
        "language": language or "",
        "system": system_id,
        "category": category_id,
        "candidates": CANDIDATES,
        "limit": max(1, min(int(limit), MAX_LIMIT)),
    }
    ranked = _ranked(params)
    if latin_short and len(ranked) < min(params["limit"], TRIGRAM_FALLBACK_BELOW):
        # Too few words matched: perhaps a typo. Only now select by the title's trigrams.
        ranked = _ranked({**params, "trigram_select": True})
    if not ranked:
        return []
    articles = (
        Article.objects.select_related("system")
        .defer("search_vector", "head_vector")
        .in_bulk([pk for pk, _score in ranked])
    )
    return [Hit(articles[pk], float(score)) for pk, score in ranked if pk in articles]


def _filter_query(terms: list[str], *, prefix_last: bool) -> tuple[str, bool]:
    """The tsquery that selects candidates, and whether it selects from the whole text (or
    from the title and symptom alone): the rarest uncommon terms within FILTER_BUDGET, OR-ed
    (the query's last term keeps its prefix match); when every term is common, its two rarest
    together, in the title or symptom."""
    stats = term_stats()
    shares, total = stats["shares"], stats.get("total", 0)
    unknown = STATS_MIN_SHARE / 2
    rare = sorted(
        (t for t in terms if shares.get(t, unknown) <= COMMON_SHARE),
        key=lambda t: shares.get(t, unknown),
    )
    if not rare:
        rarest = sorted(terms, key=lambda t: shares.get(t, 0.0))[:2]
        return " & ".join(search.tsquery_literal([t]) for t in rarest), False
    chosen, expected = [], 0.0
    for term in rare:
        share = shares.get(term, unknown)
        if chosen and (expected + share) * total > FILTER_BUDGET:
            break
        chosen.append(term)
        expected += share
    last = terms[-1]
    prefix = prefix_last and last in chosen
    if prefix:
        chosen = [t for t in chosen if t != last] + [last]
    return search.tsquery_literal(chosen, prefix_last=prefix), True


def _ranked(params: dict) -> list[tuple[int, float]]:
    sql = _SEARCH_SQL_INDEXED if params["language"] else _SEARCH_SQL_PLANNED
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ticket_text(ticket: Ticket) -> str:
    return f"{ticket.title}\n{ticket.description}"


def suggestions_for_ticket(*, viewer: User, ticket: Ticket, limit: int = 5) -> list[Hit]:
    """Articles for an agent's ticket page: from its text, boosted by its system and
    category; internal articles included (the viewer is staff)."""
    return article_search(
        viewer=viewer,
        query=ticket_text(ticket),
        system_id=ticket.system_id,
        category_id=ticket.category_id,
        limit=limit,
    )


def ticket_article_links(*, ticket: Ticket) -> QuerySet[ArticleTicketLink]:
    return ArticleTicketLink.objects.filter(ticket=ticket).select_related("article")


def article_versions(*, article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("published_by").order_by("-number")


def archive_counts() -> dict[str, int]:
    """How many closed tickets produced an article, or used one (PRODUCT.md §7)."""
    from tickets.choices import Status

    closed = ArticleTicketLink.objects.filter(ticket__status=Status.CLOSED)
    return {
        "produced": closed.filter(kind="created_from").values("ticket").distinct().count(),
        "used": closed.filter(kind="used").values("ticket").distinct().count(),
    }


# --- problems -------------------------------------------------------------------------------


def problem_list(*, viewer: User, status: str = "", open_only: bool = False) -> QuerySet[Problem]:
    """Problems ranked by linked tickets (desk staff only; requesters see none)."""
    if not is_desk_staff(viewer):
        return Problem.objects.none()
    queryset = Problem.objects.select_related("owner", "system").order_by("-ticket_count", "-id")
    if status:
        queryset = queryset.filter(status=status)
    elif open_only:
        queryset = queryset.exclude(status__in=[ProblemStatus.FIXED, ProblemStatus.CLOSED])
    return queryset


def problem_get(*, viewer: User, problem_id: int) -> Problem:
    return problem_list(viewer=viewer).get(pk=problem_id)


def problem_tickets(*, problem: Problem) -> QuerySet[ProblemTicketLink]:
    return problem.ticket_links.select_related("ticket", "ticket__assignee", "linked_by")


def problems_for_ticket(*, ticket: Ticket) -> QuerySet[ProblemTicketLink]:
    return ProblemTicketLink.objects.filter(ticket=ticket).select_related("problem")


def similar_problems(*, viewer: User, ticket: Ticket, limit: int = 3) -> list[Problem]:
    """Open problems that look like this ticket (offered the link on the ticket page)."""
    terms = search.query_terms(ticket_text(ticket))
    if not terms or not is_desk_staff(viewer):
        return []
    linked = ProblemTicketLink.objects.filter(ticket=ticket).values("problem_id")
    return list(
        Problem.objects.exclude(status__in=[ProblemStatus.FIXED, ProblemStatus.CLOSED])
        .exclude(pk__in=linked)
        .annotate(
            matches=RawSQL(
                "knowledge_problem.search_vector @@ %s::tsquery",
                [search.tsquery_literal(terms)],
                output_field=BooleanField(),
            )
        )
        .filter(matches=True)
        .order_by("-ticket_count", "-id")[:limit]
    )
