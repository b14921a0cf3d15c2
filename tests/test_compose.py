"""The deployment file: valid by the Compose specification, the expected services, health checks,
the one-shot migrate everything waits for, and no secret written into it.

No container engine is needed. The file is resolved the way Compose does (YAML anchors and
merge keys, then `${VAR}` interpolation with its `:-` defaults and `:?` required variables) and
validated against the Compose specification's JSON schema, which the `check-jsonschema`
package ships (`vendor.compose-spec`). Where a Compose CLI is installed (`docker compose` or
the older `docker-compose`), every assertion also runs on its own `config` output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = {"migrate", "web", "worker", "delivery", "beat"}
REQUIRED_ENV = {
    "SECRET_KEY": "test-secret-key-from-the-environment",
    "ALLOWED_HOSTS": "desk.example.com",
    "POSTGRES_PASSWORD": "test-db-password",
}


class ComposeError(Exception):
    """What Compose says of a file it refuses (a `${VAR:?message}` left unset)."""


# $$ | ${NAME<op>word} | $NAME, as in the Compose specification's "Interpolation" section.
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[_A-Za-z][_A-Za-z0-9]*)(?P<op>:?[-?+])?(?P<word>[^}]*)\}"
    r"|(?P<bare>[_A-Za-z][_A-Za-z0-9]*))"
)


def interpolate_text(text: str, env: dict[str, str]) -> str:
    def substitute(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        op, word = match["op"] or "", match["word"]
        value = env.get(name)
        unset_or_empty = not value
        missing = unset_or_empty if op.startswith(":") else value is None
        if op.endswith("-"):
            return word if missing else value
        if op.endswith("?"):
            if missing:
                raise ComposeError(f"required variable {name} is missing a value: {word}")
            return value
        if op.endswith("+"):
            return "" if missing else word
        return value or ""

    return VARIABLE.sub(substitute, text)


def interpolate(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate_text(node, env)
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    return node


def validate(document: dict) -> None:
    schema = get_builtin_schema("vendor.compose-spec")
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.path))
    if errors:
        raise ComposeError(
            "; ".join(f"{'.'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errors)
        )


def resolve_by_the_specification(env: dict[str, str]) -> dict:
    """Anchors and merge keys (PyYAML), interpolation, the schema; extension fields dropped."""
    document = interpolate(yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8")), env)
    validate(document)
    return {key: value for key, value in document.items() if not key.startswith("x-")}


def cli_resolver(command: list[str]) -> Callable[[dict[str, str]], dict]:
    def resolve(env: dict[str, str]) -> dict:
        # Only the variables given, and no .env file of the developer's, decide the result.
        base = {
            key: value
            for key, value in os.environ.items()
            if key not in {*REQUIRED_ENV, "POSTGRES_USER", "POSTGRES_DB", "SERVICEDESK_IMAGE"}
        }
        with tempfile.NamedTemporaryFile(suffix=".env") as no_env_file:
            result = subprocess.run(
                [
                    *command,
                    "--file",
                    str(COMPOSE_FILE),
                    "--project-directory",
                    str(ROOT),
                    "--env-file",
                    no_env_file.name,
                    "config",
                ],
                env={**base, **env},
                capture_output=True,
                text=True,
                timeout=60,
            )
        if result.returncode != 0:
            raise ComposeError(result.stderr)
        return yaml.safe_load(result.stdout)

    return resolve


def installed_resolvers() -> dict[str, Callable[[dict[str, str]], dict]]:
    resolvers = {"compose-spec": resolve_by_the_specification}
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        ).returncode
        == 0
    ):
        resolvers["docker compose"] = cli_resolver([docker, "compose"])
    if shutil.which("docker-compose"):
        resolvers["docker-compose"] = cli_resolver([shutil.which("docker-compose")])
    return resolvers


RESOLVERS = installed_resolvers()


@pytest.fixture(scope="module", params=sorted(RESOLVERS))
def resolver(request) -> Callable[[dict[str, str]], dict]:
    return RESOLVERS[request.param]


@pytest.fixture(scope="module")
def resolved(resolver) -> dict:
    return resolver(REQUIRED_ENV)


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
    # (`docker compose` adds `required: true`, its default, to each entry.)
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


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
def test_a_missing_secret_stops_compose(resolver, missing):
    env = {k: v for k, v in REQUIRED_ENV.items() if k != missing}
    with pytest.raises(ComposeError, match=missing):
        resolver(env)


def test_defaults_apply_and_can_be_overridden(resolver):
    defaults = resolver(REQUIRED_ENV)["services"]
    assert defaults["web"]["environment"]["TIME_ZONE"] == "Asia/Shanghai"
    assert "--workers=3" in defaults["web"]["command"]
    chosen = resolver({**REQUIRED_ENV, "TIME_ZONE": "Europe/Berlin", "WEB_CONCURRENCY": "8"})
    assert chosen["services"]["web"]["environment"]["TIME_ZONE"] == "Europe/Berlin"
    assert "--workers=8" in chosen["services"]["web"]["command"]


def test_the_schema_check_catches_a_misspelt_key():
    """The validation is real: a key the specification does not know fails it."""
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    document["services"]["web"]["helthcheck"] = document["services"]["web"].pop("healthcheck")
    with pytest.raises(ComposeError, match="helthcheck"):
        validate(interpolate(document, REQUIRED_ENV))
    document["services"]["web"]["healthcheck"] = document["services"]["web"].pop("helthcheck")
    document["services"]["web"]["healthcheck"]["test"] = {"CMD": "true"}
    with pytest.raises(ComposeError, match=r"web\.healthcheck\.test"):
        validate(interpolate(document, REQUIRED_ENV))


def test_interpolation_follows_the_specification():
    env = {"SET": "value", "EMPTY": ""}
    assert interpolate_text("$$HOME and $${SET}", env) == "$HOME and ${SET}"
    assert interpolate_text("${SET}/$SET/${UNSET}", env) == "value/value/"
    assert interpolate_text("${EMPTY:-d}|${EMPTY-d}|${UNSET-d}", env) == "d||d"
    assert interpolate_text("${SET:+r}|${EMPTY+r}|${EMPTY:+r}", env) == "r|r|"
    assert interpolate_text("${EMPTY?fine}", env) == ""
    with pytest.raises(ComposeError, match="EMPTY is missing a value: say so"):
        interpolate_text("${EMPTY:?say so}", env)


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
