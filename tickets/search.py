"""Ticket full-text search (issue #19): the stored documents, the query, ranking, highlights.

Every ticket has one `TicketSearchDocument` row: `public` (number, title, description, public
replies) and `staff` (the same plus internal notes). Both are tsvectors built here from text
split into two parts: runs of Chinese characters, segmented with jieba (`cut_for_search`, so
"打印机" is also indexed as "打印") into the `simple` configuration; everything else through
`english` (stemmed: "printers" finds "printer"). A GIN index on each column answers a word in
a few milliseconds whatever the number of tickets; the services that change those texts call
`search_document_update` in their transaction (a new ticket's document is written by the
statement that inserts it), so a search sees the ticket as it is.

Reading: `search_q(viewer, text)` is the WHERE clause the ticket lists use (the API's and the
queues' `q=`): an exact ticket number, a requester by user name / e-mail / phone, or the words.
The ranked result page of the workspace's search box is a selector built from these pieces
(`tickets.selectors.ticket_search`).
"""

from __future__ import annotations

import functools
import logging
import re

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User

from .models import Comment, Ticket, TicketSearchDocument

# CJK unified ideographs (basic, extension A, compatibility), as routing's classifier uses.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN_RE = re.compile(rf"[{_CJK}]+")
_WORD_RE = re.compile(rf"[{_CJK}]+|[^\W{_CJK}]+")
# Only the start of a long text is indexed: a pasted 1 MB log must not cost seconds per reply.
MAX_INDEXED_CHARS = 20_000
# The ranked search ranks the newest matches the viewer may see, at most this many: ranking
# every match of a word in 5 % of a million tickets would read 50,000 documents.
RANK_CANDIDATES = 100
SEARCH_PAGE_SIZE = 50
MAX_QUERY_WORDS = 12
# Matches up to this many are read as a list of ids first (see _matching_ids).
MATERIALISE_AT = 2_000
PHONE_RE = re.compile(r"\+?[\d\s()-]{5,40}")


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    # jieba logs "Building prefix dict ..." at INFO on first use.
    jieba.setLogLevel(logging.WARNING)
    return jieba


@functools.lru_cache(maxsize=4096)
def _segment_run(run: str, for_search: bool) -> tuple[str, ...]:
    jieba = _jieba()
    words = jieba.cut_for_search(run) if for_search else jieba.cut(run)
    return tuple(w for w in words if w.strip())


def split_text(text: str, *, for_search: bool = True) -> tuple[str, str]:
    """(Chinese words separated by spaces, the other text) of `text`."""
    text = (text or "")[:MAX_INDEXED_CHARS]
    chinese = []
    for run in _CJK_RUN_RE.findall(text):
        chinese.extend(_segment_run(run, for_search))
    return " ".join(chinese), _CJK_RUN_RE.sub(" ", text)


# (chinese, other) of one part → one weighted tsvector; A: number and title, B: description,
# C: public replies, D: internal notes (in `staff` only).
UPSERT_SQL = """
INSERT INTO tickets_ticketsearchdocument (ticket_id, public, staff)
SELECT %s, p, p || setweight(to_tsvector('simple', %s) || to_tsvector('english', %s), 'D')
FROM (SELECT setweight(to_tsvector('simple', %s) || to_tsvector('english', %s), 'A')
          || setweight(to_tsvector('simple', %s) || to_tsvector('english', %s), 'B')
          || setweight(to_tsvector('simple', %s) || to_tsvector('english', %s), 'C') AS p) doc
ON CONFLICT (ticket_id) DO UPDATE SET public = EXCLUDED.public, staff = EXCLUDED.staff
"""


def search_document_update(*, ticket_id: int) -> None:
    """Build the ticket's search document again from its number, title, description, replies
    and notes. Called by the services that change those texts, inside their transaction."""
    replies, notes = [], []
    ticket = Ticket.objects.only("number", "title", "description").get(pk=ticket_id)
    for body, internal in Comment.objects.filter(ticket_id=ticket_id).values_list(
        "body", "is_internal"
    ):
        (notes if internal else replies).append(body)
    parts = [
        ("A", f"{ticket.number} {ticket.title}"),
        ("B", ticket.description),
        ("C", "\n".join(replies)),
    ]
    # Placeholders in the order of UPSERT_SQL: id, the notes, then the public parts.
    params: list = [ticket_id, *split_text("\n".join(notes))]
    for _weight, text in parts:
        params.extend(split_text(text))
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_SQL, params)


# The document of a ticket inserted by the same statement (`tickets.services.creation`): `t`
# is that INSERT's RETURNING (id, number). A new ticket has no replies or notes yet: the C and
# D parts of UPSERT_SQL are empty, so `staff` is `public`. Its number has no Chinese, so
# `split_text(f"{number} {title}")` is the title's Chinese words, and the number, a space and
# the title's other text. Parameters: `new_document_params`.
NEW_DOCUMENT_OF_INSERTED_SQL = """
INSERT INTO tickets_ticketsearchdocument (ticket_id, public, staff)
SELECT t.id, p, p
FROM t, LATERAL (
    SELECT setweight(
            to_tsvector('simple', %s) || to_tsvector('english', t.number || ' ' || %s), 'A')
        || setweight(to_tsvector('simple', %s) || to_tsvector('english', %s), 'B') AS p) doc
"""


def new_document_params(*, title: str, description: str) -> list[str]:
    """The values of NEW_DOCUMENT_OF_INSERTED_SQL: what `search_document_update` would index
    for a ticket with this title and description."""
    return [*split_text(title), *split_text(description)]


# The same documents for many new tickets in one statement: no replies or notes yet.
NEW_DOCUMENTS_SQL = """
INSERT INTO tickets_ticketsearchdocument (ticket_id, public, staff)
SELECT v.id, p, p || setweight(to_tsvector('simple', '') || to_tsvector('english', ''), 'D')
FROM (VALUES %s) AS v(id, az, ao, bz, bo),
LATERAL (SELECT setweight(to_tsvector('simple', v.az) || to_tsvector('english', v.ao), 'A')
          || setweight(to_tsvector('simple', v.bz) || to_tsvector('english', v.bo), 'B')
          || setweight(to_tsvector('simple', '') || to_tsvector('english', ''), 'C') AS p) doc
ON CONFLICT (ticket_id) DO UPDATE SET public = EXCLUDED.public, staff = EXCLUDED.staff
"""


def search_documents_for_new(tickets: list[Ticket]) -> None:
    """`search_document_update` of many tickets just created (a bulk intake), in one
    statement: the document of a new ticket is its number, title and description."""
    from psycopg2.extras import execute_values

    rows = [
        (
            ticket.pk,
            *split_text(f"{ticket.number} {ticket.title}"),
            *split_text(ticket.description),
        )
        for ticket in tickets
    ]
    if rows:
        with connection.cursor() as cursor:
            raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
            execute_values(raw, NEW_DOCUMENTS_SQL, rows, page_size=1000)


def search_documents_rebuild(*, batch: int = 1000) -> int:
    """Every ticket's document (after the migration, or to repair); returns how many."""
    done, last = 0, 0
    while True:
        ids = list(
            Ticket.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return done
        for ticket_id in ids:
            search_document_update(ticket_id=ticket_id)
        done, last = done + len(ids), ids[-1]


def text_query(text: str) -> SearchQuery | None:
    """The tsquery of what was typed: every word must match (Chinese words in `simple`,
    others stemmed in `english`); None when nothing searchable is left (only stop words)."""
    chinese, other = split_text(text, for_search=False)
    query = None
    words = [w.lower() for w in _WORD_RE.findall(other)][:MAX_QUERY_WORDS]
    if words:
        # The last word is a prefix (the queue searches as one types: "unassig" finds
        # "unassigned"). Words are runs of word characters: no tsquery syntax gets through.
        raw = " & ".join([*words[:-1], words[-1] + ":*"])
        query = SearchQuery(raw, config="english", search_type="raw")
    if chinese:
        chinese_query = SearchQuery(chinese, config="simple", search_type="plain")
        query = chinese_query if query is None else query & chinese_query
    return query


def sees_internal(viewer: User | None) -> bool:
    """The desk's side reads internal notes (as `selectors.viewer_is_staff_on`)."""
    return viewer is not None and (
        viewer.has_perm("accounts.handle_tickets")
        or viewer.has_perm("accounts.view_reports")
        or viewer.has_perm("accounts.view_all_tickets")
    )


def _lookup_ids(text: str) -> list[int]:
    """Ids of the ticket with this number and of the tickets of the requester with this user
    name, e-mail or phone (a few, read first). The number is compared as stored (upper case)
    so its unique index answers (an `iexact` read every ticket at a million); the people
    through the user name's index, the e-mail and phone only when the text looks like one."""
    people = Q(username=text)
    if "@" in text:
        people |= Q(email__iexact=text)
    if PHONE_RE.fullmatch(text):
        people |= Q(phone=text)
    by_number = Ticket.objects.filter(number__in=sorted({text, text.upper()})).values_list(
        "id", flat=True
    )
    by_requester = Ticket.objects.filter(
        requester_id__in=User.objects.filter(people).values("pk")
    ).values_list("id", flat=True)
    return list(by_number.union(by_requester)[:MATERIALISE_AT])


def _words_q(query: SearchQuery, column: str) -> Q:
    """Tickets whose `column` document matches. A rare word's few ids are read first (the
    tickets are then fetched by primary key); a common word's as a correlated EXISTS, which
    PostgreSQL checks while it walks the newest tickets and stops at the page's end, where an
    `IN (all matches)` would first collect every match (83,659 for "vpn" at a million)."""
    documents = TicketSearchDocument.objects.filter(**{column: query})
    # Read through the cursor: a common word returns MATERIALISE_AT + 1 ids only to say so,
    # and the ORM's row iteration of 2,001 ids cost more than the query.
    sql, params = documents.values_list("ticket_id")[: MATERIALISE_AT + 1].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = [ticket_id for (ticket_id,) in cursor.fetchall()]
    if len(fetched) <= MATERIALISE_AT:
        return Q(pk__in=fetched)
    return Q(Exists(documents.filter(ticket_id=OuterRef("pk"))))


def _scoped(viewer: User | None, text: str, *, lookups: bool) -> Q:
    """Never an OR of conditions PostgreSQL cannot answer from an index: that read every
    ticket (733 ms for a word no ticket has, at a million)."""
    found = Q(pk__in=_lookup_ids(text)) if lookups else Q(pk__in=[])
    query = text_query(text)
    if query is None:
        return found
    if not sees_internal(viewer):
        return found | _words_q(query, "public")
    # Internal notes match only on tickets the viewer did not request (see words_q); the
    # public document is read only for those rows.
    public = TicketSearchDocument.objects.filter(ticket_id=OuterRef("pk"), public=query)
    return found | (_words_q(query, "staff") & (~Q(requester_id=viewer.pk) | Q(Exists(public))))


def words_q(viewer: User | None, text: str) -> Q:
    """Tickets whose words match `text`, for this viewer: the desk's side also matches
    internal notes, except on tickets they requested themselves (where they read only the
    public side, as the ticket page shows it)."""
    return _scoped(viewer, text, lookups=False)


def lookup_q(text: str) -> Q:
    """An exact ticket number, or the tickets of the requester with this user name, e-mail
    or phone (tier 1 answering a caller)."""
    return Q(pk__in=_lookup_ids(text))


def search_q(viewer: User | None, text: str) -> Q:
    """The `q=` of the ticket lists: a number, a requester, or words."""
    return _scoped(viewer, text.strip(), lookups=True)


def terms_of(text: str) -> list[str]:
    """The words to highlight: the typed words and their Chinese segments."""
    chinese, other = split_text(text, for_search=False)
    words = {w for w in _WORD_RE.findall(other)} | set(chinese.split())
    return sorted((w for w in words if w), key=len, reverse=True)


@functools.lru_cache(maxsize=256)
def _highlight_pattern(terms: tuple[str, ...]) -> re.Pattern:
    """Built once per search, not for each of the page's 100 titles and snippets."""
    return re.compile(
        "|".join(re.escape(t) + ("" if _CJK_RUN_RE.fullmatch(t) else r"\w*") for t in terms if t),
        re.IGNORECASE,
    )


def highlight(text: str, terms: list[str], *, width: int | None = None) -> SafeString:
    """`text` escaped, with the matched words in <mark>; English words match by their start
    (so "print" marks "printer"). With `width`, a snippet around the first match."""
    text = text or ""
    if not terms:
        return escape(text[:width] if width else text)
    pattern = _highlight_pattern(tuple(terms))
    if width:
        first = pattern.search(text)
        start = max(0, first.start() - width // 3) if first else 0
        text = (
            ("…" if start else "")
            + text[start : start + width]
            + ("…" if len(text) > start + width else "")
        )
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped above  # nosec B308 B703
