"""REPORTS_DATABASE_URL: the read model is read from the replica alias when it exists."""

from __future__ import annotations

from reports.models import TicketFact
from reports.routers import ReportsReplicaRouter, reports_db
from tickets.models import Ticket


def test_without_a_replica_everything_reads_the_primary(settings):
    assert "reports" not in settings.DATABASES
    assert reports_db() == "default"
    assert ReportsReplicaRouter().db_for_read(TicketFact) == "default"


def test_with_a_replica_only_the_read_model_reads_it(settings, monkeypatch):
    monkeypatch.setitem(settings.DATABASES, "reports", dict(settings.DATABASES["default"]))
    router = ReportsReplicaRouter()
    assert reports_db() == "reports"
    assert router.db_for_read(TicketFact) == "reports"
    assert router.db_for_read(Ticket) is None  # the rest of the desk is left alone
    assert router.db_for_write(TicketFact) is None  # writes go to the primary
    assert router.allow_migrate("reports", "reports") is False
    assert router.allow_migrate("default", "reports") is None
