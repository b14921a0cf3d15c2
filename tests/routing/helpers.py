"""Helpers shared by the routing tests."""

from __future__ import annotations

from pathlib import Path

from routing import modelstore
from tickets.models import Ticket, TicketEvent


def use_model_dir(settings, directory: Path) -> None:
    settings.SERVICEDESK = {**settings.SERVICEDESK, "CLASSIFIER_MODEL_DIR": str(directory)}
    modelstore.clear_cache()


def train_file(directory: Path, name: str, texts: list[str], labels: list[str]) -> str:
    from routing.classifier import TextClassifier

    directory.mkdir(parents=True, exist_ok=True)
    modelstore.write(TextClassifier().fit(texts, labels), directory / name)
    return name


def log(ticket: Ticket, kind: str) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind).order_by("id"))
