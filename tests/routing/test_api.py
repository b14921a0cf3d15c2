"""The routing API: POST /api/tickets/{id}/classify/ and /dispatch-to-owner/."""

import pytest
from rest_framework.test import APIClient

from accounts.choices import Tier
from routing.choices import Target
from routing.models import ClassificationRule, TrainingExample
from tests.factories import request_type
from tickets.choices import Status
from tickets.models import Ticket


@pytest.fixture
def api():
    def _client(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return _client


def test_classify_a_triaged_ticket(desk, create, api):
    ticket = create("打不开")
    response = api(desk.tier1).post(
        f"/api/tickets/{ticket.pk}/classify/",
        {"request_type": "fault", "category": "network", "system": desk.system.pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["request_type"]["code"] == "fault"
    assert body["category"]["code"] == "network"
    assert body["system"]["code"] == "trading"
    assert (body["tier"], body["team"]["code"], body["needs_triage"]) == (
        "middle",
        "middle-app",
        False,
    )
    assert set(TrainingExample.objects.filter(ticket=ticket).values_list("target", "label")) == {
        (Target.REQUEST_TYPE, "fault"),
        (Target.CATEGORY, "network"),
    }


def test_classify_with_a_team_id(desk, create, api):
    ticket = create("hmm")
    response = api(desk.tier1).post(
        f"/api/tickets/{ticket.pk}/classify/", {"team": desk.front.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["team"]["id"] == desk.front.pk


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"non_field_errors": ["Give a request type, category, system or team."]}),
        ({"request_type": "nope"}, {"request_type": ["Object with code=nope does not exist."]}),
        ({"team": "x"}, {"team": ["A valid integer is required."]}),
        (
            {"team": 10**30},
            {"team": ["Ensure this value is less than or equal to 9223372036854775807."]},
        ),
    ],
)
def test_classify_bad_input_is_400_with_field_messages(desk, create, api, payload, errors):
    ticket = create("hmm")
    response = api(desk.tier1).post(f"/api/tickets/{ticket.pk}/classify/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == errors


def test_classify_permissions(desk, create, api):
    ticket = create("hmm")
    # The requester sees the ticket but may not classify it.
    response = api(desk.requester).post(
        f"/api/tickets/{ticket.pk}/classify/", {"request_type": "defect"}, format="json"
    )
    assert response.status_code == 403
    # Another requester does not even see it.
    response = api(desk.other_requester).post(
        f"/api/tickets/{ticket.pk}/classify/", {"request_type": "defect"}, format="json"
    )
    assert response.status_code == 404
    assert api(desk.tier1).post("/api/tickets/abc/classify/", {}, format="json").status_code == 404
    assert APIClient().post(f"/api/tickets/{ticket.pk}/classify/").status_code == 401


def test_dispatch_to_owner(desk, create, api):
    ClassificationRule.objects.create(
        name="d", keywords="broken", set_request_type=request_type("defect")
    )
    ticket = create("order page broken", system=desk.system)
    response = api(desk.expert).post(f"/api/tickets/{ticket.pk}/dispatch-to-owner/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tier"], body["team"]["code"], body["status"]) == (
        Tier.BACK,
        "back-core",
        Status.IN_PROGRESS,
    )
    # Again: it is no longer at the middle office. The expert who dispatched it follows it
    # (keeps sight of it) but may not dispatch it again.
    response = api(desk.expert).post(f"/api/tickets/{ticket.pk}/dispatch-to-owner/")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Only the middle office sends tickets to the system owner."]
    }


def test_dispatch_to_owner_without_system_is_400(desk, create, api):
    ClassificationRule.objects.create(
        name="d", keywords="broken", set_request_type=request_type("defect")
    )
    ticket = create("order page broken")
    response = api(desk.expert).post(f"/api/tickets/{ticket.pk}/dispatch-to-owner/")
    assert response.status_code == 400
    assert list(response.json()) == ["system"]


def test_dispatch_to_owner_by_someone_who_may_not_dispatch_is_refused(desk, create, api):
    ClassificationRule.objects.create(
        name="d", keywords="broken", set_request_type=request_type("defect")
    )
    ticket = create("order page broken", system=desk.system)
    response = api(desk.requester).post(f"/api/tickets/{ticket.pk}/dispatch-to-owner/")
    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.tier == Tier.MIDDLE


def test_a_closed_ticket_cannot_be_retyped_nor_teach_the_classifier(desk, create, api):
    ticket = create("打不开")
    Ticket.objects.filter(pk=ticket.pk).update(status="closed")
    response = api(desk.tier1).post(
        f"/api/tickets/{ticket.pk}/classify/",
        {"request_type": "fault", "category": "network"},
        format="json",
    )
    assert response.status_code == 409, response.content
    ticket.refresh_from_db()
    assert ticket.request_type is None
    assert not TrainingExample.objects.filter(ticket=ticket).exists()
