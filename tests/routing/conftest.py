"""Fixtures of the routing tests: a model directory per test, classifier files trained once per
session on the built-in seed examples, and ticket creation with the on-commit reactions run."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.choices import Target
from routing.models import ClassifierModel
from routing.seed_examples import EXAMPLES
from tickets.models import Ticket
from tickets.services import ticket_create

from .helpers import train_file, use_model_dir


@pytest.fixture
def model_dir(settings, tmp_path) -> Path:
    """An empty model directory for this test."""
    directory = tmp_path / "models"
    use_model_dir(settings, directory)
    return directory


@pytest.fixture(scope="session")
def seed_model_files(tmp_path_factory) -> Path:
    """Request type and category classifiers trained on the seed examples, once per session."""
    directory = tmp_path_factory.mktemp("seed-models")
    texts = [text for text, _type, _category in EXAMPLES]
    train_file(directory, "request_type-v0001.model", texts, [t for _x, t, _c in EXAMPLES])
    categorised = [(text, category) for text, _t, category in EXAMPLES if category]
    train_file(
        directory,
        "category-v0001.model",
        [text for text, _c in categorised],
        [category for _t, category in categorised],
    )
    return directory


@pytest.fixture
def seed_models(db, settings, seed_model_files) -> dict[str, ClassifierModel]:
    """The session's seed classifiers registered as active version 1 of their targets."""
    use_model_dir(settings, seed_model_files)
    return {
        target: ClassifierModel.objects.create(
            target=target,
            version=1,
            file_path=f"{target}-v0001.model",
            n_samples=len(EXAMPLES),
            is_active=True,
        )
        for target in (Target.REQUEST_TYPE, Target.CATEGORY)
    }


@pytest.fixture
def create(desk, django_capture_on_commit_callbacks):
    """Open a ticket through the ticket service and run its on-commit reactions."""

    def _create(title: str, description: str = "", **kwargs) -> Ticket:
        kwargs.setdefault("requester", desk.requester)
        with django_capture_on_commit_callbacks(execute=True):
            ticket, _created = ticket_create(title=title, description=description, **kwargs)
        ticket.refresh_from_db()
        return ticket

    return _create
