"""Settings come from the environment, with clear errors, and production passes the deploy check.

Each case runs a fresh interpreter with a controlled environment (settings are read once per
process), so the variables of the machine running the tests never leak in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Variables the settings read; removed from the inherited environment before each case.
CONFIG_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DB_CONN_MAX_AGE",
    "LANGUAGE_CODE",
    "TIME_ZONE",
    "MEDIA_ROOT",
    "EMAIL_BACKEND",
    "TICKET_NUMBER_PREFIX",
    "REOPEN_WINDOW_DAYS",
    "AUTO_CLOSE_RESOLVED_AFTER_DAYS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "TEST_REDIS_DB",
    "TEST_DB_NAME",
    "DJANGO_SETTINGS_MODULE",
}
PRODUCTION_ENV = {
    "SECRET_KEY": "kq7-Zt1x9Vw3bN5mL0pR2sD8fG4hJ6yU1iO3aE5cT7vB9nM2qW4eR6tY8uI0oP",
    "ALLOWED_HOSTS": "desk.example.com",
    "DATABASE_URL": "postgres://desk:db-password@db.example.com:5432/desk",
    "REDIS_URL": "redis://redis.example.com:6379/0",
}


def clean_env(**values: str) -> dict[str, str]:
    # The browser tests' switch for Django's async-safety check must not leak into a
    # production-like subprocess either.
    ignored = {*CONFIG_VARIABLES, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    return {**env, **values}


def run_python(module: str, code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(DJANGO_SETTINGS_MODULE=module, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_of(module: str, *names: str, **env: str) -> dict:
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    result = run_python(module, code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def settings_error(module: str, **env: str) -> str:
    result = run_python(module, "from django.conf import settings; settings.DEBUG", **env)
    assert result.returncode != 0
    return result.stderr


def test_database_url_is_parsed():
    values = settings_of(
        "servicedesk.settings.local",
        "DATABASES",
        DATABASE_URL="postgres://desk:s3cret@db.example.com:6543/deskdb",
        DB_CONN_MAX_AGE="120",
    )
    db = values["DATABASES"]["default"]
    # Django's backend with the desk's health check (servicedesk/postgresql/base.py).
    assert db["ENGINE"] == "servicedesk.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("deskdb", "desk", "s3cret")
    assert (db["HOST"], db["PORT"]) == ("db.example.com", 6543)
    assert db["CONN_MAX_AGE"] == 120
    assert db["CONN_HEALTH_CHECKS"] is True


def test_without_urls_the_embedded_services_are_the_default():
    values = settings_of("servicedesk.settings.local", "DATABASES", "REDIS_URL")
    db = values["DATABASES"]["default"]
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("127.0.0.1", 54329, "servicedesk")
    assert values["REDIS_URL"] == "redis://127.0.0.1:63799/0"


def test_redis_url_feeds_the_broker_the_results_and_the_cache():
    url = "redis://:pw@cache.example.com:6380/3"
    values = settings_of(
        "servicedesk.settings.local",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "CACHES",
        REDIS_URL=url,
    )
    assert values["CELERY_BROKER_URL"] == url
    assert values["CELERY_RESULT_BACKEND"] == url
    assert values["CACHES"]["default"]["LOCATION"] == url
    # Django's Redis cache, sharing one client per connection pool (servicedesk/cache.py).
    assert values["CACHES"]["default"]["BACKEND"] == "servicedesk.cache.SharedClientRedisCache"


def test_tests_use_their_own_redis_database_and_test_database_name():
    values = settings_of(
        "servicedesk.settings.test",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "CACHES",
        "DATABASES",
        REDIS_URL="redis://127.0.0.1:6379/0",
        TEST_REDIS_DB="11",
        TEST_DB_NAME="test_someone",
    )
    assert values["REDIS_URL"] == "redis://127.0.0.1:6379/11"
    assert values["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/11"
    assert values["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/11"
    assert values["DATABASES"]["default"]["TEST"]["NAME"] == "test_someone"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), ("YES", True), ("on", True), ("false", False), ("0", False)],
)
def test_debug_is_read_as_a_boolean(raw, expected):
    assert settings_of("servicedesk.settings.local", "DEBUG", DEBUG=raw)["DEBUG"] is expected


def test_debug_defaults():
    assert settings_of("servicedesk.settings.local", "DEBUG")["DEBUG"] is True
    assert settings_of("servicedesk.settings.test", "DEBUG")["DEBUG"] is False
    # Production ignores DEBUG=true: debug pages never reach the internet.
    values = settings_of("servicedesk.settings.production", "DEBUG", DEBUG="true", **PRODUCTION_ENV)
    assert values["DEBUG"] is False


def test_a_bad_boolean_is_refused_with_the_variable_named():
    stderr = settings_error("servicedesk.settings.local", DEBUG="maybe")
    assert "ImproperlyConfigured" in stderr
    assert "DEBUG must be true or false, not 'maybe'." in stderr


def test_a_bad_number_is_refused_with_the_variable_named():
    stderr = settings_error("servicedesk.settings.local", DB_CONN_MAX_AGE="a minute")
    assert "DB_CONN_MAX_AGE must be a whole number, not 'a minute'." in stderr


def test_lists_and_desk_policy_come_from_the_environment():
    values = settings_of(
        "servicedesk.settings.local",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "SERVICEDESK",
        "TIME_ZONE",
        "USE_TZ",
        ALLOWED_HOSTS="desk.example.com, .desk.example.org ,",
        CSRF_TRUSTED_ORIGINS="https://desk.example.com",
        TICKET_NUMBER_PREFIX="HX",
        REOPEN_WINDOW_DAYS="14",
        AUTO_CLOSE_RESOLVED_AFTER_DAYS="5",
    )
    assert values["ALLOWED_HOSTS"] == ["desk.example.com", ".desk.example.org"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://desk.example.com"]
    assert values["SERVICEDESK"]["TICKET_NUMBER_PREFIX"] == "HX"
    assert values["SERVICEDESK"]["REOPEN_WINDOW_DAYS"] == 14
    assert values["SERVICEDESK"]["AUTO_CLOSE_RESOLVED_AFTER_DAYS"] == 5
    assert (values["TIME_ZONE"], values["USE_TZ"]) == ("Asia/Shanghai", True)


def test_production_requires_a_secret_key_from_the_environment():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    stderr = settings_error("servicedesk.settings.production", **env)
    assert "The environment variable SECRET_KEY must be set." in stderr


def test_production_requires_allowed_hosts():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "ALLOWED_HOSTS"}
    stderr = settings_error("servicedesk.settings.production", **env)
    assert "ALLOWED_HOSTS must be set in production." in stderr


def test_production_takes_its_secrets_and_hosts_from_the_environment():
    values = settings_of(
        "servicedesk.settings.production",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        **PRODUCTION_ENV,
    )
    assert values["SECRET_KEY"] == PRODUCTION_ENV["SECRET_KEY"]
    assert values["ALLOWED_HOSTS"] == ["desk.example.com"]
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True


def test_production_passes_the_deploy_check_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(
            DJANGO_SETTINGS_MODULE="servicedesk.settings.production",
            # Holiday coverage is data, not deployment settings (tests/sla/test_holidays.py).
            SILENCED_SYSTEM_CHECKS="sla.W001",
            **PRODUCTION_ENV,
        ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified no issues" in output


def test_every_environment_variable_of_the_settings_is_documented_in_the_readme():
    """The README's table is the reference: a new variable must be added there."""
    import re

    sources = [
        *(ROOT / "servicedesk" / "settings").glob("*.py"),
        ROOT / "scripts" / "devservices.py",
    ]
    pattern = re.compile(r"(?:env_(?:str|int|bool|list)\(|environ\.get\()\s*\"([A-Z][A-Z0-9_]+)\"")
    names = {name for path in sources for name in pattern.findall(path.read_text("utf-8"))}
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMBEDDED_PG_PORT"} <= names
    readme = (ROOT / "README.md").read_text("utf-8")
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == []
