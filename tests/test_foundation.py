"""The foundation (`servicedesk/`) imports nothing above it, and the web sides do not import
each other: read from the source, function-local imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from servicedesk import health
from servicedesk.celery import app as celery_app
from servicedesk.exceptions import DomainError
from tickets.exceptions import TicketError

ROOT = Path(settings.BASE_DIR)
DOMAIN_APPS = {"tickets", "routing", "sla", "notifications", "portal", "workspace", "knowledge"}


def imported_packages(folder: str) -> dict[str, set[str]]:
    """The top-level packages each module under `folder` imports, anywhere in its body."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_foundation_imports_no_domain_app():
    offending = {
        module: sorted(names & DOMAIN_APPS)
        for module, names in imported_packages("servicedesk").items()
        if names & DOMAIN_APPS
    }
    assert offending == {}


def test_the_workspace_does_not_import_the_portal_nor_the_portal_the_workspace():
    assert not any("portal" in names for names in imported_packages("workspace").values())
    assert not any("workspace" in names for names in imported_packages("portal").values())


def test_routing_api_takes_shared_helpers_from_the_foundation_not_the_ticket_api_views():
    source = (ROOT / "routing" / "api" / "views.py").read_text(encoding="utf-8")
    assert "tickets.api.views" not in source


def test_ticket_errors_are_the_foundations_domain_errors():
    assert issubclass(TicketError, DomainError)


def test_auto_close_kept_its_task_name_and_beat_entry():
    from tickets.tasks import auto_close_resolved

    assert auto_close_resolved.name == "sla.auto_close_resolved"
    entry = settings.CELERY_BEAT_SCHEDULE["sla.auto_close_resolved"]
    assert entry["task"] == "sla.auto_close_resolved"
    # The worker finds the task under that name, and runs the one in the ticket core.
    assert celery_app.tasks[entry["task"]].__module__ == "tickets.tasks"


# --- /healthz and its registry of checks ---------------------------------------------------


@pytest.fixture
def checks():
    """The registry as the apps left it is restored after the test."""
    before = dict(health._checks)
    yield health
    health._checks.clear()
    health._checks.update(before)


@pytest.mark.django_db
def test_healthz_reports_the_registered_checks(client, checks):
    checks.register("test_parked_reactions", lambda: 3)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["details"]["test_parked_reactions"] == 3


@pytest.mark.django_db
def test_healthz_is_503_when_a_check_fails(client, checks):
    def broken():
        raise RuntimeError("cannot count")

    checks.register("test_broken", broken)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["details"]["test_broken"] == {"error": "RuntimeError"}


@pytest.mark.django_db
def test_healthz_without_checks_is_plain_ok(client, checks):
    for name in health.registered():
        checks.unregister(name)
    response = client.get(reverse("healthz"))
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


# --- shared model bases --------------------------------------------------------------------


def test_every_append_only_log_and_every_attachment_has_the_shared_base():
    from knowledge.models import ArticleAttachment, ArticleEvent, ProblemEvent
    from servicedesk.models import AppendOnlyLogEntry, SafeAttachment
    from tickets.models import Attachment, TicketEvent

    for log in (TicketEvent, ArticleEvent, ProblemEvent):
        assert issubclass(log, AppendOnlyLogEntry), log
    for attachment in (Attachment, ArticleAttachment):
        assert issubclass(attachment, SafeAttachment), attachment


@pytest.mark.django_db
def test_the_models_match_their_migrations():
    """The shared bases changed no table: `makemigrations --check` finds nothing to write."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    assert "No changes detected" in out.getvalue()
