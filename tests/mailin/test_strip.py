"""Quoted history and signatures are cut from replies; the full text stays in the source."""

from __future__ import annotations

import pytest

from mailin.strip import REPLY_MARKER, strip_reply

CASES = {
    "desk_marker": (
        f"Thanks, works now.\n\n{REPLY_MARKER}\nYour ticket was resolved.",
        "Thanks, works now.",
    ),
    "gmail": (
        "Yes.\n\nOn Mon, Dec 1, 2026 at 10:00 AM Desk <help@desk.example> wrote:\n> Did it work?",
        "Yes.",
    ),
    "gmail_wrapped": (
        "Yes.\n\nOn Mon, Dec 1, 2026 at 10:00 AM Service Desk\n<help@desk.example> wrote:\n> q",
        "Yes.",
    ),
    "outlook": (
        "Done.\n\n________________________________\n"
        "From: Service Desk\nSent: Monday\nTo: Alice\nSubject: x",
        "Done.",
    ),
    "outlook_original_message": ("OK\n-----Original Message-----\nFrom: x", "OK"),
    "outlook_from_block": (
        "OK\nFrom: Service Desk <help@desk.example>\nSent: Monday, 1 December\n\nold",
        "OK",
    ),
    "chinese_outlook": (
        "已解决\n\n发件人: 服务台\n发送时间: 2026年12月1日\n收件人: 张三\n主题: 回复",
        "已解决",
    ),
    "foxmail_original": (
        "好的\n\n------------------ 原始邮件 ------------------\n发件人: 服务台",
        "好的",
    ),
    "netease": (
        '收到\n在 2026-12-01 10:00:00，"服务台" <help@desk.example> 写道：\n> 原文',
        "收到",
    ),
    "signature_dash_dash_space": (
        "Fixed by restart.\n-- \nAlice Wang\nIT, Floor 3",
        "Fixed by restart.",
    ),
    "iphone": ("ok\n\nSent from my iPhone", "ok"),
    "chinese_iphone": ("好\n\n发自我的iPhone", "好"),
    "trailing_quote_block": (
        "Inline answer.\n\n> quoted line 1\n> quoted line 2\n",
        "Inline answer.",
    ),
    "from_line_in_text_is_kept": (
        "From: the logs I see errors.\nThat is all.",
        "From: the logs I see errors.\nThat is all.",
    ),
    "crlf_lines": ("Yes\r\n\r\nOn Mon wrote:\r\n> x", "Yes"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_strip(name):
    text, expected = CASES[name]
    assert strip_reply(text) == expected
