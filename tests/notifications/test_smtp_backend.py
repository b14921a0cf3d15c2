"""The desk's SMTP backend sanitises addresses as Django's does, once per address."""

from __future__ import annotations

import pytest
from django.core.mail.message import sanitize_address

from notifications.smtp import sanitized

ADDRESSES = [
    "servicedesk@localhost",
    "agent@example.com",
    "张伟 <zhang.wei@example.com>",
    "Ops Team <ops@例子.测试>",
    ("王芳", "wang.fang@example.com"),
    '"Doe, Jane" <jane@example.com>',
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_same_result_as_djangos(address):
    assert sanitized(address, "utf-8") == sanitize_address(address, "utf-8")


def test_each_address_is_parsed_once():
    sanitized.cache_clear()
    for _ in range(3):
        sanitized("agent@example.com", "utf-8")
        sanitized("other@example.com", "utf-8")
    info = sanitized.cache_info()
    assert (info.misses, info.hits) == (2, 4)


def test_a_malformed_address_raises_every_time_and_is_not_kept():
    sanitized.cache_clear()
    for _ in range(2):
        with pytest.raises(ValueError):
            sanitized("not an address <<>>", "utf-8")
    assert sanitized.cache_info().currsize == 0
