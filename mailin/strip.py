"""Cut quoted history and signatures from a reply, so the ticket shows what is new.

The full message stays in the stored source; only the added text is cut. The desk's own
outgoing mail carries `REPLY_MARKER` above its text, the surest cut; after it come the quote
headers of the common mailers in English and Chinese (Outlook, Gmail, Apple Mail, Foxmail,
QQ and NetEase mail), a trailing block of `>` lines, and the usual signature delimiters.
"""

from __future__ import annotations

import re

# Outbound desk mail puts this line above its text (agreed with the notification mail).
REPLY_MARKER = "-- Reply above this line / 请在此行上方回复 --"

_CUT_LINES = [
    re.compile(r"^\s*-{2,}\s*reply above this line", re.I),
    re.compile(r"^\s*-{2,}.*请在此行上方回复"),
    re.compile(r"^\s*-{3,}\s*original message\s*-{3,}", re.I),
    re.compile(r"^\s*-{3,}\s*原始邮件\s*-{3,}"),
    re.compile(r"^\s*-{3,}\s*回复的原邮件\s*-{3,}"),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted header block
    re.compile(r"^\s*on\b.{0,200}\bwrote:\s*$", re.I),
    re.compile(r"^\s*在\s?.{0,200}写道[:：]\s*$"),
    re.compile(r"^\s*(from|发件人)\s*[:：].{0,200}$", re.I),  # only with a sent/date line after
    re.compile(r"^\s*-- $"),  # RFC 3676 signature delimiter ("-- " with the space)
    re.compile(r"^\s*--\s*$"),
    re.compile(r"^\s*(sent from my|发自我的|从我的).{0,60}$", re.I),
    re.compile(r"^\s*get outlook for", re.I),
]
_FROM_BLOCK = re.compile(r"^\s*(from|发件人)\s*[:：]", re.I)
_FROM_FOLLOW = re.compile(
    r"^\s*(sent|date|to|发送时间|日期|时间|收件人|subject|主题)\s*[:：]", re.I
)
_ON_WROTE_START = re.compile(r"^\s*on\b.{0,200}$", re.I)


def strip_reply(text: str) -> str:
    """The new part of a reply: everything above the first quote or signature marker."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if _is_cut(lines, index, line):
            cut = index
            break
    kept = lines[:cut]
    # A trailing block of quoted lines (and blank lines) goes too.
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    return "\n".join(kept).strip()


def _is_cut(lines: list[str], index: int, line: str) -> bool:
    for pattern in _CUT_LINES:
        if not pattern.search(line):
            continue
        if _FROM_BLOCK.search(line):
            follow = lines[index + 1 : index + 4]
            return any(_FROM_FOLLOW.search(nxt) for nxt in follow)
        return True
    # Gmail wraps long "On <date>, <name> wrote:" lines over two lines.
    if _ON_WROTE_START.search(line) and index + 1 < len(lines):
        return lines[index + 1].rstrip().endswith("wrote:") and len(line) < 200
    return False
