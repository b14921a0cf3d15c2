"""The deployment file: valid for docker-compose, the expected services, health checks, the
one-shot migrate everything waits for, and no secret written into it.

No Docker engine runs here: `docker-compose config` (Debian's docker-compose package, which
`make test` installs when missing) parses, validates and interpolates the file without one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = {"migrate", "web", "worker", "beat"}
REQUIRED_ENV = {
    "SECRET_KEY": "test-secret-key-from-the-environment",
    "ALLOWED_HOSTS": "desk.example.com",
    "POSTGRES_PASSWORD": "test-db-password",
}


def compose_config(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is missing: `make test` installs Debian's docker-compose")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {*REQUIRED_ENV, "POSTGRES_USER", "POSTGRES_DB", "SERVICEDESK_IMAGE"}
    }
    return subprocess.run(
        [binary, "--file", str(COMPOSE_FILE), "--project-directory", str(ROOT), "config"],
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def resolved() -> dict:
    result = compose_config(REQUIRED_ENV)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def test_the_services_are_exactly_the_deployment_set(resolved):
    assert set(resolved["services"]) == {"postgres", "redis", *APP_SERVICES}
    assert resolved["services"]["postgres"]["image"] == "postgres:16"
    assert resolved["services"]["redis"]["image"].startswith("redis:")


def test_every_long_running_service_has_a_health_check(resolved):
    services = resolved["services"]
    assert services["postgres"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "scripts/healthcheck.py"]
    assert "inspect ping" in services["worker"]["healthcheck"]["test"][1]
    assert "healthcheck" in services["beat"]
    assert "healthcheck" not in services["migrate"]  # one-shot: it exits


def test_migrate_runs_once_and_the_app_waits_for_it(resolved):
    services = resolved["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_commands_run_gunicorn_and_celery(resolved):
    services = resolved["services"]
    assert services["web"]["command"][:2] == ["gunicorn", "servicedesk.wsgi:application"]
    # Threaded workers, as measured in docs/benchmarks.md.
    assert "--worker-class=gthread" in services["web"]["command"]
    assert "--threads=4" in services["web"]["command"]
    assert services["worker"]["command"][:3] == ["celery", "--app=servicedesk", "worker"]
    assert services["beat"]["command"][:3] == ["celery", "--app=servicedesk", "beat"]


def test_configuration_comes_from_the_environment(resolved):
    for name in APP_SERVICES:
        env = resolved["services"][name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "servicedesk.settings.production"
        assert env["SECRET_KEY"] == REQUIRED_ENV["SECRET_KEY"]
        assert env["ALLOWED_HOSTS"] == "desk.example.com"
        assert env["DATABASE_URL"] == (
            "postgres://servicedesk:test-db-password@postgres:5432/servicedesk"
        )
        assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert resolved["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == (
        "test-db-password"
    )


@pytest.mark.parametrize("missing", sorted(REQUIRED_ENV))
def test_a_missing_secret_stops_compose(missing):
    env = {k: v for k, v in REQUIRED_ENV.items() if k != missing}
    result = compose_config(env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_no_secret_is_written_in_the_file(raw):
    """Secrets are only ${VARIABLES} without defaults: the file itself holds none."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "EMAIL_HOST_PASSWORD"):
        values = re.findall(rf"^\s*{name}:\s*(\S+)", text, flags=re.MULTILINE)
        assert values
        for value in values:
            assert value.startswith("${" + name), f"{name} is not taken from the environment"
    assert re.search(r"\$\{SECRET_KEY:\?", text)
    assert re.search(r"\$\{POSTGRES_PASSWORD:\?", text)
    # The raw file parses with PyYAML too, and every app service shares the one image.
    images = {raw["services"][name].get("image") for name in APP_SERVICES}
    assert images == {"${SERVICEDESK_IMAGE:-servicedesk:latest}"}


def test_the_image_runs_as_a_non_root_user_with_pinned_dependencies():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("#") and "\nFROM python:3.11-slim\n" in dockerfile
    assert "pip install -c constraints.txt ." in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert "\nUSER servicedesk\n" in dockerfile
    assert '"gunicorn", "servicedesk.wsgi:application"' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", ".data", ".env"} <= set(ignored)
