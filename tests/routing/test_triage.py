"""Manual triage (人工兜底): creating a ticket never fails because of classification."""

import pytest

from routing import engine, services
from routing.models import ClassificationRule
from tests.factories import request_type
from tickets.choices import EventKind, Status
from tickets.selectors import TicketFilters, ticket_list

from .helpers import log


def assert_in_triage(ticket) -> str:
    assert (ticket.status, ticket.needs_triage, ticket.team, ticket.tier) == (
        Status.NEW,
        True,
        None,
        "",
    )
    entries = log(ticket, EventKind.TRIAGE)
    assert len(entries) == 1
    assert entries[0].is_public is False
    return entries[0].message


def test_no_rule_and_no_model(desk, create):
    message = assert_in_triage(create("Something odd happened"))
    assert message == (
        "No request type could be decided: no rule matched; no active model for the request "
        "type; no active model for the category; no active model for the team."
    )


@pytest.mark.parametrize(
    "title",
    ["😀😀😀", "？？？ ！！", "...", "🔥💻🔥 🙏"],
    ids=["emoji", "fullwidth-punctuation", "dots", "emoji-and-space"],
)
def test_text_without_words(desk, create, title):
    ticket = create(title, "")
    message = assert_in_triage(ticket)
    assert "the text has no words to classify" in message
    assert ticket.priority == "P3"  # still prioritised from its impact and urgency


def test_triage_queue_lists_new_tickets_for_dispatchers(desk, create):
    """The workspace's manual triage queue: new tickets flagged for triage, as each sees them."""
    ticket = create("Something odd happened")

    def triage_queue(viewer):
        filters = TicketFilters(needs_triage=True, status=[Status.NEW])
        return list(ticket_list(viewer=viewer, filters=filters))

    assert triage_queue(desk.tier1) == [ticket]
    assert triage_queue(desk.engineer) == []  # back office does not triage
    assert triage_queue(desk.other_requester) == []  # (and the workspace is closed to them)


def test_any_failure_of_routing_goes_to_triage_with_the_reason(desk, create, monkeypatch):
    def broken(ticket):
        raise RuntimeError("the classifier exploded")

    monkeypatch.setattr(engine, "classify", broken)
    ticket = create("VPN down")
    message = assert_in_triage(ticket)
    assert message == (
        "Automatic classification failed (RuntimeError: the classifier exploded): "
        "sent to manual triage."
    )


def test_failure_after_classification_rolls_back_and_triages(desk, create, monkeypatch):
    ClassificationRule.objects.create(
        name="All", keywords="vpn", set_request_type=request_type("fault")
    )

    def broken(*, ticket_id, team):
        raise RuntimeError("lost the database")

    monkeypatch.setattr(services, "_assign_in_team", broken)
    ticket = create("VPN down")
    assert_in_triage(ticket)
    # The classification and routing written before the failure were rolled back with it.
    assert ticket.request_type is None
    assert log(ticket, EventKind.STATUS_CHANGED) == []
    assert log(ticket, EventKind.CLASSIFIED) == []


def test_rule_with_an_invalid_regex_in_the_table_is_skipped(desk, create):
    rule = ClassificationRule.objects.create(
        name="Fine", regex="ok", set_request_type=request_type("fault")
    )
    # Bypass validation as a raw database edit would.
    ClassificationRule.objects.filter(pk=rule.pk).update(regex="(broken")
    assert_in_triage(create("ok then"))
