"""Chinese and English text → search lexemes, the stored tsvector and the query.

PostgreSQL's parser cannot split Chinese (a run of hanzi is one "word", or nothing at all
under the C locale), and zhparser is not installable from pip. So the text is segmented here:
Chinese with jieba's search mode (which also emits the shorter words inside a long one, so
密码 is found inside 修改密码后邮箱被锁定), English lower-cased and reduced to its Snowball stem
(printers → printer). The lexemes are handed to PostgreSQL as tsvector / tsquery *literals*
(quoted lexemes with positions and weights): no parser, no dictionary and no locale between
what is computed here and what is stored, and query and document are normalised identically.

Weights: A title, B symptom, C tags / scenario / system, D the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

logger = logging.getLogger(__name__)

# Longer input is cut: a search box never needs 10,000 characters, and the index of one
# article never needs more than its first 200,000.
QUERY_MAX_CHARS = 500
DOCUMENT_MAX_CHARS = 200_000
QUERY_MAX_TERMS = 12
MAX_POSITION = 16_383  # PostgreSQL's largest tsvector position

# Runs of Chinese characters, or of Latin letters and digits. Everything else (punctuation,
# quotes, SQL or shell metacharacters) separates words and never reaches the database.
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+", re.IGNORECASE)
_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


ENGLISH_STOP = _wordset(
    """a an and are as at be but by can cannot could did do does for from had has have how i if
    in into is it its me my no not of on or our please so that the their then there these they
    this to was we were what when where which while who why will with would you your
    hi hello dear thanks thank regards best kindly pm am"""
)
CHINESE_STOP = _wordset(
    "的 了 和 是 在 我 有 也 就 都 而 及 与 着 或 一个 没有 我们 你们 他们 "
    "请 吗 呢 啊 把 被 让 给 后 时 中 上 下 不 无法 一直 怎么 什么 如何 "
    "为什么 可以 需要 已经 还是 但是 这个 那个 尽快 处理 麻烦 谢谢 您好 你好 出现 "
    "情况 问题 帮忙 一下"
)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def tokens(text: str, *, limit: int = DOCUMENT_MAX_CHARS) -> list[str]:
    """The lexemes of `text` in order: jieba words for Chinese, Snowball stems for English."""
    if not text:
        return []
    out: list[str] = []
    for run in _RUN.finditer(text[:limit].lower()):
        chunk = run.group()
        if _HANZI.match(chunk):
            for word in _jieba().cut_for_search(chunk):
                if word and word not in CHINESE_STOP:
                    out.append(word)
        elif chunk not in ENGLISH_STOP and (len(chunk) > 1 or chunk.isdigit()):
            out.append(_stem(chunk))
    return out


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(parts: Iterable[tuple[str, str]]) -> str:
    """A tsvector literal from (text, weight) parts: `'密码':2A 'printer':7B ...`."""
    return tsvector_literals(parts)[0]


def tsvector_literals(parts: Iterable[tuple[str, str]], *, head: int = 0) -> tuple[str, str]:
    """The literal of all `parts`, and the literal of the first `head` parts alone — what
    `tsvector_literal` gives for each, with the text segmented once (segmentation is most of
    an import's time)."""
    positions: dict[str, list[str]] = {}
    head_literal = None
    position = 0
    for index, (text, weight) in enumerate(parts):
        if index == head:
            head_literal = _literal(positions)
        for lexeme in tokens(text):
            position = min(position + 1, MAX_POSITION)
            entries = positions.setdefault(lexeme, [])
            if len(entries) < 256:  # PostgreSQL keeps at most 256 positions per lexeme
                entries.append(f"{position}{weight}")
        position = min(position + 5, MAX_POSITION)  # no phrase match across sections
    literal = _literal(positions)
    if head_literal is None:  # no more parts than the head
        head_literal = literal
    return literal, (head_literal if head else "")


def _literal(positions: dict[str, list[str]]) -> str:
    return " ".join(f"{_quote(lexeme)}:{','.join(pos)}" for lexeme, pos in positions.items())


def query_terms(text: str) -> list[str]:
    """The distinct lexemes a search for `text` looks for, at most QUERY_MAX_TERMS.

    Long text (a whole ticket description) is reduced to its most telling words with jieba's
    TF-IDF keyword extraction first, so a suggestion query stays small and specific.
    """
    return list(_query_terms((text or "")[:QUERY_MAX_CHARS]))


# The ticket panel asks twice for the same text (articles, then problems), and the portal
# asks again for what the requester typed so far: the keywords of a description cost a
# millisecond or two of jieba each time.
@lru_cache(maxsize=512)
def _query_terms(text: str) -> tuple[str, ...]:
    terms = list(dict.fromkeys(tokens(text)))
    if len(terms) <= QUERY_MAX_TERMS:
        return tuple(terms)
    from jieba import analyse

    _jieba()
    keywords = analyse.extract_tags(text, topK=QUERY_MAX_TERMS * 2)
    chosen: list[str] = []
    for keyword in keywords:
        for lexeme in tokens(keyword):
            if lexeme in terms and lexeme not in chosen:
                chosen.append(lexeme)
    for lexeme in terms:  # keep the title's words first when keywords were too few
        if len(chosen) >= QUERY_MAX_TERMS:
            break
        if lexeme not in chosen:
            chosen.append(lexeme)
    return tuple(chosen[:QUERY_MAX_TERMS])


def tsquery_literal(terms: list[str], *, prefix_last: bool = False, weights: str = "") -> str:
    """An OR tsquery literal; the last term may match as a prefix (a word still being typed);
    `weights` ("AB") restricts every term to those sections (title, symptom)."""
    quoted = [_quote(term) for term in terms]
    marks = [weights] * len(quoted)
    if prefix_last and quoted and terms[-1].isascii() and len(terms[-1]) >= 3:
        marks[-1] = "*" + weights
    return " | ".join(f"{q}:{m}" if m else q for q, m in zip(quoted, marks, strict=True))
