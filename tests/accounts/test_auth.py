"""Signing in on the web and the API, the admin, the language switch and the clock."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone

from accounts.choices import Role
from tests.factories import UserFactory

PASSWORD = "pw-Secret-123"  # the factories' password


def test_the_login_page_renders_and_signs_in(client, db):
    UserFactory(username="alice", roles=[Role.REQUESTER])
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"
    assert client.session["_auth_user_id"]


def test_a_wrong_password_shows_the_form_again(client, db):
    UserFactory(username="alice")
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client, db):
    client.force_login(UserFactory())
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_pages_need_a_signed_in_user(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_password_change(client, db):
    user = UserFactory(username="bob")
    client.force_login(user)
    assert client.get("/accounts/password/").status_code == 200
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "An0ther-long-passphrase",
            "new_password2": "An0ther-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert response.url == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password("An0ther-long-passphrase")
    assert client.get("/accounts/password/done/").status_code == 200


def test_password_change_refuses_a_weak_password(client, db):
    user = UserFactory(username="bob")
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_administrator_signs_in_to_the_admin(client, db):
    UserFactory(username="root", roles=[Role.ADMINISTRATOR], is_staff=True, is_superuser=True)
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    content = page.content.decode()
    for model in ("orgunit", "team", "user", "informationsystem", "requesttype", "category"):
        assert f"/{model}/" in content, model


def test_the_admin_edits_people_teams_and_the_catalogue(client, desk):
    desk.admin.is_superuser = True
    desk.admin.save(update_fields=["is_superuser"])
    client.force_login(desk.admin)
    for url in (
        "/admin/accounts/user/",
        f"/admin/accounts/user/{desk.tier1.pk}/change/",
        "/admin/accounts/orgunit/",
        "/admin/accounts/team/",
        f"/admin/accounts/team/{desk.front.pk}/change/",
        "/admin/catalog/informationsystem/",
        f"/admin/catalog/informationsystem/{desk.system.pk}/change/",
        "/admin/catalog/category/",
        "/admin/catalog/requesttype/",
    ):
        assert client.get(url).status_code == 200, url


def test_non_staff_cannot_use_the_admin(client, db):
    client.force_login(UserFactory(roles=[Role.FRONT_TIER1]))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


def test_api_token_auth(client, db):
    UserFactory(username="carol", roles=[Role.REQUESTER])
    response = client.post("/api/auth/token/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40
    again = client.post("/api/auth/token/", {"username": "carol", "password": PASSWORD})
    assert again.json()["token"] == token
    response = client.get("/api/tickets/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200


def test_api_refuses_bad_credentials_and_anonymous_calls(client, db):
    UserFactory(username="carol")
    response = client.post("/api/auth/token/", {"username": "carol", "password": "wrong"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    anonymous = client.get("/api/tickets/")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    response = client.get("/api/tickets/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_api_accepts_the_web_session(client, db):
    client.force_login(UserFactory(roles=[Role.REQUESTER]))
    assert client.get("/api/tickets/").status_code == 200


def test_the_language_switch_sets_simplified_chinese(client, db):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    page = client.get("/accounts/login/")
    assert page.headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert client.get("/accounts/login/").headers["Content-Language"] == "en"


def test_both_languages_ship():
    assert [code for code, _ in settings.LANGUAGES] == ["en", "zh-hans"]


def test_the_clock_is_shanghai_and_aware():
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert timezone.get_current_timezone() == zoneinfo.ZoneInfo("Asia/Shanghai")
    assert timezone.is_aware(timezone.now())
    assert timezone.localtime().utcoffset().total_seconds() == 8 * 3600
