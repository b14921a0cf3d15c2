"""Text preprocessing shared by every feature block: normalisation and tokenisation.

Nothing here imports Django or scikit-learn.
"""

from __future__ import annotations

import logging
import re
import unicodedata

import jieba

# jieba logs "Building prefix dict ..." at INFO on first use; keep management commands and
# tests quiet. Its dictionary ships inside the wheel, so nothing is downloaded.
jieba.setLogLevel(logging.WARNING)

#: Only the start of a ticket is classified: the subject and first paragraphs carry the intent,
#: and the cap keeps a pasted 100 KB log from costing more than a few milliseconds.
MAX_INPUT_CHARS = 20_000

#: Chinese characters segmented into words per text (jieba is the slowest step).
MAX_SEGMENTED_CHARS = 5_000

# CJK unified ideographs (basic, extension A, compatibility): segmented by jieba.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# A run of CJK characters, or a run of other word characters (letters, digits, underscore).
_WORD_RUN_RE = re.compile(rf"[{_CJK}]+|[^\W{_CJK}]+")
_CJK_RE = re.compile(rf"[{_CJK}]")
# Character n-grams are taken inside runs of word characters, any script.
_CHAR_RUN_RE = re.compile(r"\w+")
# scikit-learn's default token pattern: the plain word baseline tokenises exactly like it.
_PLAIN_TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")
# Signal tokens (`signal_token`) look like `__sys_oa__`; they are words, never character runs.
_SIGNAL_RE = re.compile(r"__[a-z]+_\w*__")
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def normalize_text(text: object) -> str:
    """Canonical form of a ticket text: NFKC (full-width → half-width), lower case, no NUL.

    The raw text is cut before NFKC so that huge inputs cost nothing, and again after it
    because NFKC may expand some characters (ligatures, squared CJK abbreviations).
    """
    if text is None:
        return ""
    raw = str(text)[:MAX_INPUT_CHARS]
    normalized = unicodedata.normalize("NFKC", raw).replace("\x00", " ").lower()
    return normalized[:MAX_INPUT_CHARS]


def plain_text(text: object) -> str:
    """What scikit-learn's TfidfVectorizer() reads: the text lower-cased, nothing else (the
    plain baseline block must see exactly this)."""
    if text is None:
        return ""
    return str(text)[:MAX_INPUT_CHARS].lower()


def signal_token(kind: str, value: object) -> str:
    """A token standing for a structured signal of the ticket (`kind` "sys", "chan", "unit",
    ...), e.g. ``signal_token("sys", "OA")`` → ``"__sys_oa__"``. Appended to the model's text
    so that the requester's chosen system, the channel and the unit are features; character
    n-grams skip them."""
    # Anything but ASCII letters and digits is spelled in hex, so a signal is always one
    # token for every tokenizer (a Chinese code would otherwise be cut by jieba).
    slug = _SLUG_RE.sub(lambda match: "_" + match.group().encode().hex(), str(value).lower())
    return f"__{kind}_{slug}__"


def word_tokens(text: str) -> list[str]:
    """Word tokens of normalised text: jieba words for Chinese, word runs for other scripts.

    Non-CJK tokens of one character are dropped (like scikit-learn's default token pattern),
    Chinese single characters are kept because many are words (卡, 慢, 坏). Only the first
    ``MAX_SEGMENTED_CHARS`` Chinese characters are segmented: jieba manages ~150,000
    characters a second, and the character n-grams still cover the rest of the text.
    """
    tokens: list[str] = []
    budget = MAX_SEGMENTED_CHARS
    for run in _WORD_RUN_RE.findall(text):
        if _CJK_RE.match(run):
            if budget > 0:
                tokens.extend(word for word in jieba.lcut(run[:budget]) if not word.isspace())
                budget -= len(run)
        elif len(run) > 1:
            tokens.append(run)
    return tokens


def plain_tokens(text: str) -> list[str]:
    """scikit-learn's default tokenisation: runs of two or more word characters."""
    return _PLAIN_TOKEN_RE.findall(text)


def char_runs(text: str) -> list[str]:
    """Runs of word characters, the units character n-grams are taken in (signals excluded)."""
    return [run for run in _CHAR_RUN_RE.findall(text) if not _SIGNAL_RE.fullmatch(run)]


def has_features(text: str) -> bool:
    """Letters, digits or CJK characters: emoji, punctuation and white space are not words."""
    return any(ch.isalnum() for ch in text)
