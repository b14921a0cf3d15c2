"""The committed lifecycle diagrams are what the code says (regenerate with `make diagram`)."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from tickets.management.commands.lifecycle_diagram import (
    lifecycle_dot,
    lifecycle_edges,
    lifecycle_mermaid,
)

DOCS = Path(settings.BASE_DIR) / "docs"


def test_committed_dot_is_current():
    assert (DOCS / "lifecycle.dot").read_text(encoding="utf-8") == lifecycle_dot()


def test_committed_mermaid_is_current():
    assert (DOCS / "lifecycle.md").read_text(encoding="utf-8") == lifecycle_mermaid()


def test_every_transition_of_the_model_is_drawn():
    names = {edge.name for edge in lifecycle_edges()}
    assert names == {
        "route",
        "start_work",
        "dispatch",
        "escalate",
        "suspend",
        "resume",
        "submit_fix",
        "resolve",
        "verify_pass",
        "verify_fail",
        "confirm",
        "reject",
        "auto_close",
        "reopen",
        "cancel",
        "merge",
        "resolve_with_incident",
    }
    # reopen returns one of two states; both are drawn.
    assert ("closed", "queued") in {
        (e.source_state, e.target_state) for e in lifecycle_edges() if e.name == "reopen"
    }


def test_command_writes_both_files(tmp_path):
    dot, markdown = tmp_path / "l.dot", tmp_path / "l.md"
    call_command("lifecycle_diagram", output=str(dot), mermaid=str(markdown))
    assert dot.read_text(encoding="utf-8") == lifecycle_dot()
    assert markdown.read_text(encoding="utf-8").startswith("# Ticket lifecycle\n")
    assert "stateDiagram-v2" in markdown.read_text(encoding="utf-8")
