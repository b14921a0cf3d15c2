"""A request's language does not outlive it (servicedesk/request_language.py): Django's
LocaleMiddleware leaves it active in the thread, and the desk's own text would follow it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_a_page_in_chinese_leaves_the_thread_in_the_desks_language(client):
    translation.deactivate()
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-hans"
    assert translation.get_language() == "en"
    assert translation.gettext("Simplified Chinese") == "Simplified Chinese"


def test_a_language_active_around_a_request_is_still_active_after_it(client):
    with translation.override("zh-hans"):
        response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
        assert response.headers["Content-Language"] == "en"
        assert translation.get_language() == "zh-hans"
    assert translation.get_language() == "en"


def test_a_profile_language_also_ends_with_its_request(client, desk):
    desk.requester.language = "zh-hans"
    desk.requester.save(update_fields=["language"])
    client.force_login(desk.requester)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()
    assert translation.get_language() == "en"
