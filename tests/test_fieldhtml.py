"""servicedesk.fieldhtml builds the same markup as `_field.html` through Django's widgets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.test.utils import CaptureQueriesContext

from servicedesk.fieldhtml import field_html
from tests.factories import TicketFactory
from tickets import actions as catalogue
from workspace import forms as workspace_forms


def _django(field, wrapper_class="mb-1"):
    return parse_html(
        render_to_string("_field.html", {"field": field, "wrapper_class": wrapper_class})
    )


def _forms(ticket):
    """Every action's web form, unbound with its initial values and bound to bad input."""
    for action in catalogue.ACTIONS:
        yield action.make_form(ticket)
        bad = action.make_form(ticket, {"team": "nope", "assignee": "-1", "priority": "P9"})
        bad.is_valid()
        yield bad
    yield workspace_forms.RouteForm(initial={"request_type": ticket.request_type_id})
    bound = workspace_forms.RouteForm({"request_type": "", "team": "x"})
    bound.is_valid()
    yield bound
    yield workspace_forms.CommentForm()
    comment = workspace_forms.CommentForm({"body": "<b>x</b>", "is_internal": "on"})
    comment.is_valid()
    yield comment
    yield workspace_forms.LogRequestForm({"requester": '"><script>', "title": "a & b"})


@pytest.mark.django_db
def test_every_action_field_is_the_markup_of_the_template(desk):
    ticket = TicketFactory(desk).queued(desk.front)
    checked = 0
    for form in _forms(ticket):
        for field in form:
            assert parse_html(field_html(field, "mb-1")) == _django(field), field.name
            checked += 1
    assert checked > 40


@pytest.mark.django_db
def test_the_same_options_are_read_once_per_cache(desk):
    ticket = TicketFactory(desk).queued(desk.front)
    dispatch = catalogue.BY_NAME["dispatch"].make_form(ticket)
    escalate = catalogue.BY_NAME["escalate"].make_form(ticket)
    cache: dict = {}
    with CaptureQueriesContext(connection) as queries:
        field_html(dispatch["team"], cache=cache)
        field_html(escalate["team"], cache=cache)
    assert len(queries) == 1
    # the selection is each form's own: dispatch proposes no team, escalation the next one
    assert '<option value="" selected>' in field_html(dispatch["team"], cache=cache)
    escalated = field_html(escalate["team"], cache=cache)
    assert f'<option value="{desk.front.escalates_to_id}" selected>' in escalated
