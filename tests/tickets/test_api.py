"""The ticket API: intake, reads scoped to the viewer, the conversation, the log, actions."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import TicketFactory, client_for
from tickets import services
from tickets.choices import Channel, EventKind, PendingReason, Priority, Status
from tickets.models import Comment, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


# --- intake ---------------------------------------------------------------------------------


def test_requester_creates_a_ticket_for_themself_by_api(desk):
    response = client_for(desk.requester).post(
        "/api/tickets/",
        {"title": "VPN drops", "description": "every ten minutes", "urgency": 2},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert response["Location"] == f"/api/tickets/{ticket.pk}/"
    assert (ticket.title, ticket.description, ticket.urgency) == (
        "VPN drops",
        "every ten minutes",
        2,
    )
    assert ticket.channel == Channel.API == body["channel"]
    assert ticket.requester == desk.requester and ticket.created_by == desk.requester
    assert body["number"] == ticket.number
    assert body["requester"] == {
        "id": desk.requester.pk,
        "username": "alice",
        "name": desk.requester.display_name,
    }
    assert body["status"] == Status.NEW
    assert body["actions"] == ["cancel"]
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.CREATED).count() == 1


def test_agent_logs_a_phone_or_im_request_on_behalf_of_a_requester(desk):
    response = client_for(desk.tier1).post(
        "/api/tickets/",
        {"title": "Called: cannot print", "requester": desk.requester.pk, "channel": "im"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.requester, ticket.created_by, ticket.channel) == (
        desk.requester,
        desk.tier1,
        Channel.IM,
    )
    assert ticket.unit == desk.unit_a
    # Without a channel, an agent's request on someone's behalf came by phone.
    response = client_for(desk.tier1).post(
        "/api/tickets/", {"title": "Called again", "requester": desk.requester.pk}, format="json"
    )
    assert Ticket.objects.get(pk=response.json()["id"]).channel == Channel.PHONE


def test_requester_cannot_log_for_someone_else_nor_choose_a_channel(desk):
    client = client_for(desk.requester)
    response = client.post(
        "/api/tickets/", {"title": "x", "requester": desk.other_requester.pk}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "You may not log requests on behalf of others."}
    response = client.post("/api/tickets/", {"title": "x", "channel": "phone"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["channel"]
    assert not Ticket.objects.exists()


def test_unknown_references_are_field_errors(desk):
    response = client_for(desk.tier1).post(
        "/api/tickets/",
        {
            "title": "x",
            "requester": 10**30,
            "system": "abc",
            "request_type": "nope",
            "impact": 9,
        },
        format="json",
    )
    assert response.status_code == 400
    assert sorted(response.json()) == ["impact", "request_type", "requester", "system"]


def test_idempotency_key_twice_gives_the_same_ticket(desk):
    client = client_for(desk.requester)
    headers = {"Idempotency-Key": "order-42"}
    first = client.post("/api/tickets/", {"title": "Once"}, format="json", headers=headers)
    second = client.post("/api/tickets/", {"title": "Once"}, format="json", headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Ticket.objects.count() == 1
    # Keys belong to one client: another client's same key is another request.
    other = client_for(desk.other_requester).post(
        "/api/tickets/", {"title": "Once"}, format="json", headers=headers
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    # Without a key, every request is a new ticket.
    client.post("/api/tickets/", {"title": "Once"}, format="json")
    assert Ticket.objects.count() == 3


def test_idempotency_key_longer_than_255_is_refused(desk):
    response = client_for(desk.requester).post(
        "/api/tickets/", {"title": "x"}, format="json", headers={"Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 400
    assert list(response.json()) == ["Idempotency-Key"]


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({}, "title"),
        ({"title": None}, "title"),
        ({"title": "t" * 1_000_000}, "title"),
        ({"title": "ok", "description": "d" * 1_000_000}, "description"),
        ({"title": "\x00\x00"}, "title"),
    ],
)
def test_bad_titles_and_bodies_are_field_errors(desk, data, field):
    response = client_for(desk.requester).post("/api/tickets/", data, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert isinstance(response.json()[field][0], str)
    assert not Ticket.objects.exists()


def test_one_megabyte_title_message_names_the_limit(desk):
    response = client_for(desk.requester).post(
        "/api/tickets/", {"title": "t" * 1_000_000}, format="json"
    )
    assert response.json() == {"title": ["At most 200 characters (this has 1000000)."]}


def test_nul_bytes_are_stripped_and_scripts_stored_as_text(desk):
    client = client_for(desk.requester)
    script = "<script>alert(1)</script>"
    response = client.post(
        "/api/tickets/",
        {"title": f"a\x00b {script}", "description": f"{script}\x00"},
        format="json",
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.title == f"ab {script}"
    assert ticket.description == script
    detail = client.get(f"/api/tickets/{ticket.pk}/")
    assert detail["Content-Type"] == "application/json"
    assert detail.json()["title"] == f"ab {script}"
    reply = client.post(
        f"/api/tickets/{ticket.pk}/comments/", {"body": f"{script}\x00"}, format="json"
    )
    assert reply.status_code == 201 and reply.json()["body"] == script


def test_lone_surrogates_never_break_a_response(desk):
    client = client_for(desk.requester)
    created = client.generic(
        "POST", "/api/tickets/", b'{"title": "VPN \\ud800 down"}', content_type="application/json"
    )
    assert created.status_code == 201
    assert created.json()["title"] == "VPN \ufffd down"
    ticket = TicketFactory(desk).in_progress()
    refused = client_for(desk.tier1).generic(
        "POST",
        f"/api/tickets/{ticket.pk}/suspend/",
        b'{"reason": "\\ud800"}',
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert refused.json() == {"reason": ['"\ufffd" is not a valid choice.']}


NASTY_BODIES = [
    b"null",
    b"[]",
    b'{"team": "x", "assignee": [], "reason": {"a": 1}, "into": 5, "passed": "maybe",'
    b' "priority": null, "body": ["x"], "note": 1e999, "resolution": true}',
    b'{"team": 99999999999999999999999, "assignee": -1, "into": "\\u0000",'
    b' "reason": "\\udfff", "body": "\\u0000", "resolution": "\\u0000"}',
]


@pytest.mark.parametrize(
    "action",
    [
        "route",
        "assign",
        "dispatch",
        "escalate",
        "suspend",
        "resolve",
        "verify",
        "merge",
        "priority",
        "comments",
    ],
)
def test_nasty_bodies_on_every_action_are_4xx(desk, action):
    ticket = TicketFactory(desk).in_progress()
    client = client_for(desk.admin)
    for body in NASTY_BODIES:
        response = client.generic(
            "POST", f"/api/tickets/{ticket.pk}/{action}/", body, content_type="application/json"
        )
        assert 400 <= response.status_code < 500, (body, response.status_code)
        assert isinstance(response.json(), dict)


def test_invalid_utf8_body_is_400(desk):
    response = client_for(desk.requester).generic(
        "POST", "/api/tickets/", b'{"title": "\xff\xfe bad"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert not Ticket.objects.exists()


def test_malformed_bodies_are_4xx(desk):
    client = client_for(desk.requester)
    not_json = client.generic("POST", "/api/tickets/", b"{", content_type="application/json")
    assert not_json.status_code == 400
    a_list = client.post("/api/tickets/", [1, 2], format="json")
    assert a_list.status_code == 400 and list(a_list.json()) == ["non_field_errors"]
    xml = client.generic("POST", "/api/tickets/", b"<a/>", content_type="application/xml")
    assert xml.status_code == 415


def test_body_over_the_upload_limit_is_413(desk, settings):
    # DATA_UPLOAD_MAX_MEMORY_SIZE is 2 MB; a 1 MB body is parsed (and refused by the service).
    body = json.dumps({"title": "x", "description": "d" * (3 * 1024 * 1024)}).encode()
    response = client_for(desk.requester).generic(
        "POST", "/api/tickets/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}


# --- reads ----------------------------------------------------------------------------------


def test_list_shows_each_viewer_only_their_tickets(desk):
    mine = TicketFactory(desk).new()
    theirs = TicketFactory(desk).new(requester=desk.other_requester)
    queued = TicketFactory(desk).queued(requester=desk.other_requester)

    def ids(user):
        response = client_for(user).get("/api/tickets/")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    at_the_back = TicketFactory(desk).new(requester=desk.other_requester)
    services.ticket_route(ticket_id=at_the_back.pk, actor=None, tier="back", team=desk.back)
    assert ids(desk.requester) == [mine.pk]
    assert ids(desk.other_requester) == [at_the_back.pk, queued.pk, theirs.pk]
    # The front office's queue, and the manual triage queue (new, no team) dispatchers work.
    assert ids(desk.tier1) == [queued.pk, theirs.pk, mine.pk]
    # Another front office: the manual triage queue, and (read-only) the tickets of unit B,
    # whose callers it answers.
    assert ids(desk.outsider_agent) == [at_the_back.pk, queued.pk, theirs.pk, mine.pk]
    assert ids(desk.engineer) == [at_the_back.pk]
    assert ids(desk.admin) == [at_the_back.pk, queued.pk, theirs.pk, mine.pk]
    assert ids(desk.manager) == [mine.pk]  # unit A only


def test_list_filters(desk):
    new = TicketFactory(desk).new(title="Printer jammed")
    queued = TicketFactory(desk).queued(title="VPN drops")
    mine = TicketFactory(desk).in_progress(title="Mail full")
    services.ticket_set_priority(
        ticket_id=queued.pk, actor=desk.tier2, priority=Priority.P2, reason="many users"
    )
    client = client_for(desk.admin)

    def ids(query):
        response = client.get(f"/api/tickets/?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("status=new") == [new.pk]
    assert ids("status=new,queued") == [queued.pk, new.pk]
    assert ids("status=new&status=in_progress") == [mine.pk, new.pk]
    assert ids("priority=P2") == [queued.pk]
    assert ids(f"team={desk.front.pk}") == [mine.pk, queued.pk]
    assert ids("tier=front") == [mine.pk, queued.pk]
    assert ids(f"assignee={desk.tier1.pk}") == [mine.pk]
    assert ids("unassigned=true&status=queued") == [queued.pk]
    assert ids(f"q={mine.number}") == [mine.pk]
    assert ids("q=vpn") == [queued.pk]
    assert ids(f"unit={desk.unit_a.pk}") == [mine.pk, queued.pk, new.pk]
    assert ids(f"unit={desk.unit_b.pk}") == []
    assert ids("open=true") == [mine.pk, queued.pk, new.pk]
    assert ids("needs_triage=false") == [mine.pk, queued.pk, new.pk]
    assert ids(f"requester={desk.requester.pk}") == [mine.pk, queued.pk, new.pk]
    assert ids(f"requester={desk.other_requester.pk}") == []
    assert (
        client_for(desk.tier1).get("/api/tickets/?assignee=me").json()["results"][0]["id"]
        == mine.pk
    )


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "priority=P9",
        "team=abc",
        "system=-1",
        f"unit={10**30}",
        "assignee=you",
        "unassigned=maybe",
        "tier=left",
        "q=" + "x" * 201,
        "request_type=%00",
    ],
)
def test_bad_filters_are_field_errors(desk, query):
    response = client_for(desk.admin).get(f"/api/tickets/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


def test_list_pages_by_cursor(desk):
    tickets = [TicketFactory(desk).new(title=f"t{i}") for i in range(7)]
    client = client_for(desk.requester)
    seen, url = [], "/api/tickets/?page_size=3"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 3
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted((t.pk for t in tickets), reverse=True)
    assert client.get("/api/tickets/?cursor=garbage").status_code == 404


@pytest.mark.parametrize("raw", ["p=abc", "p=-5", "p=\x00", f"p={10**30}", "p=1&r=1&o=x"])
def test_forged_cursors_are_404(desk, raw):
    TicketFactory(desk).new()
    cursor = quote(base64.b64encode(raw.encode()).decode())
    response = client_for(desk.requester).get(f"/api/tickets/?cursor={cursor}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


def test_empty_filter_values_mean_no_filter(desk):
    ticket = TicketFactory(desk).new()
    response = client_for(desk.requester).get("/api/tickets/?unit=&open=&status=&assignee=&q=")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [ticket.pk]


def test_agent_list_query_budget(desk, django_assert_max_num_queries):
    for i in range(55):
        TicketFactory(desk).queued(title=f"queue {i}")
    token = Token.objects.create(user=desk.tier1)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    with django_assert_max_num_queries(10):
        first = client.get(f"/api/tickets/?status=queued&team={desk.front.pk}&open=true")
    assert first.status_code == 200 and len(first.json()["results"]) == 50
    with django_assert_max_num_queries(10):
        deep = client.get(first.json()["next"])
    assert len(deep.json()["results"]) == 5


def test_detail_query_budget(desk, django_assert_max_num_queries):
    ticket = TicketFactory(desk).in_progress()
    services.comment_add(ticket_id=ticket.pk, actor=desk.tier1, body="on it")
    token = Token.objects.create(user=desk.tier1)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    with django_assert_max_num_queries(12):
        assert client.get(f"/api/tickets/{ticket.pk}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/api/tickets/{ticket.pk}/timeline/").status_code == 200


@pytest.mark.parametrize("suffix", ["", "timeline/", "comments/", "attachments/", "transitions/"])
def test_ids_do_not_leak(desk, suffix):
    theirs = TicketFactory(desk).new(requester=desk.other_requester)
    client = client_for(desk.requester)
    not_yours = client.get(f"/api/tickets/{theirs.pk}/{suffix}")
    missing = client.get(f"/api/tickets/{theirs.pk + 1000}/{suffix}")
    assert not_yours.status_code == missing.status_code == 404
    assert not_yours.json() == missing.json() == {"detail": "Not found."}
    for weird in ["abc", "-1", "0", "1.5", str(10**30), "%00", "١٢"]:
        response = client.get(f"/api/tickets/{weird}/{suffix}")
        assert response.status_code == 404, weird


def test_actions_on_another_requesters_ticket_are_404(desk):
    theirs = TicketFactory(desk).new(requester=desk.other_requester)
    client = client_for(desk.requester)
    assert client.post(f"/api/tickets/{theirs.pk}/cancel/", {}, format="json").status_code == 404
    response = client.post(f"/api/tickets/{theirs.pk}/comments/", {"body": "hi"}, format="json")
    assert response.status_code == 404
    assert Ticket.objects.get(pk=theirs.pk).status == Status.NEW
    assert not Comment.objects.exists()


def test_unauthenticated_is_refused(desk):
    response = APIClient().get("/api/tickets/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_token_auth(desk):
    response = APIClient().post(
        "/api/auth/token/", {"username": "alice", "password": "pw-Secret-123"}, format="json"
    )
    assert response.status_code == 200
    client = APIClient(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/tickets/").status_code == 200


# --- the conversation and the log -----------------------------------------------------------


def test_requester_never_sees_internal_notes(desk):
    ticket = TicketFactory(desk).in_progress()
    agent, requester = client_for(desk.tier1), client_for(desk.requester)
    assert (
        agent.post(
            f"/api/tickets/{ticket.pk}/comments/",
            {"body": "user is VIP, careful", "is_internal": True},
            format="json",
        ).status_code
        == 201
    )
    reply = agent.post(f"/api/tickets/{ticket.pk}/comments/", {"body": "Looking"}, format="json")
    assert reply.status_code == 201 and reply.json()["is_internal"] is False

    assert [c["body"] for c in agent.get(f"/api/tickets/{ticket.pk}/comments/").json()] == [
        "user is VIP, careful",
        "Looking",
    ]
    assert [c["body"] for c in requester.get(f"/api/tickets/{ticket.pk}/comments/").json()] == [
        "Looking"
    ]
    requester_log = requester.get(f"/api/tickets/{ticket.pk}/timeline/").json()
    agent_log = agent.get(f"/api/tickets/{ticket.pk}/timeline/").json()
    assert EventKind.NOTE_ADDED not in {e["kind"] for e in requester_log}
    assert "user is VIP, careful" not in json.dumps(requester_log)
    assert "user is VIP, careful" not in json.dumps(
        requester.get(f"/api/tickets/{ticket.pk}/").json()
    )
    assert EventKind.NOTE_ADDED in {e["kind"] for e in agent_log}
    assert all(e["is_public"] for e in requester_log)


def test_requester_cannot_write_internal_notes(desk):
    ticket = TicketFactory(desk).new()
    response = client_for(desk.requester).post(
        f"/api/tickets/{ticket.pk}/comments/", {"body": "psst", "is_internal": True}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Requesters cannot write internal notes."}
    assert not Comment.objects.exists()


@pytest.mark.parametrize("body", ["", "  ", "\x00", "b" * 50_001])
def test_bad_comment_bodies(desk, body):
    ticket = TicketFactory(desk).new()
    response = client_for(desk.requester).post(
        f"/api/tickets/{ticket.pk}/comments/", {"body": body}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["body"]


def test_requester_reply_resumes_a_ticket_waiting_on_them(desk):
    ticket = TicketFactory(desk).in_progress()
    agent, requester = client_for(desk.tier1), client_for(desk.requester)
    response = agent.post(
        f"/api/tickets/{ticket.pk}/suspend/",
        {"reason": PendingReason.REQUESTER, "note": "which printer?"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == Status.PENDING
    requester.post(f"/api/tickets/{ticket.pk}/comments/", {"body": "3rd floor"}, format="json")
    assert requester.get(f"/api/tickets/{ticket.pk}/").json()["status"] == Status.IN_PROGRESS


# --- actions --------------------------------------------------------------------------------


def post(client, ticket, action, data=None):
    return client.post(f"/api/tickets/{ticket.pk}/{action}/", data or {}, format="json")


def test_the_whole_journey_through_the_api(desk):
    requester = client_for(desk.requester)
    tier1, expert, engineer = (
        client_for(desk.tier1),
        client_for(desk.expert),
        client_for(desk.engineer),
    )
    created = requester.post(
        "/api/tickets/", {"title": "Trading down", "system": desk.system.pk}, format="json"
    )
    ticket = Ticket.objects.get(pk=created.json()["id"])
    assert post(tier1, ticket, "route", {"team": desk.front.pk}).json()["status"] == "queued"
    taken = post(tier1, ticket, "take")
    assert taken.status_code == 200
    assert taken.json()["assignee"]["id"] == desk.tier1.pk
    escalated = post(tier1, ticket, "escalate", {"reason": "needs an expert"})
    assert escalated.status_code == 200, escalated.json()
    assert escalated.json()["team"]["id"] == desk.middle.pk  # the chain's next team
    # tier 1 handed it on and no longer sees it: their own result comes back without actions.
    assert escalated.json()["actions"] == []
    assert post(expert, ticket, "take").status_code == 200
    dispatched = post(expert, ticket, "dispatch", {"team": desk.back.pk, "reason": "owner"})
    assert dispatched.json()["tier"] == "back"
    assert post(engineer, ticket, "take").status_code == 200
    fixed = post(engineer, ticket, "resolve", {"resolution": "restarted the engine"})
    assert fixed.json()["status"] == Status.PENDING_VERIFICATION
    failed = post(expert, ticket, "verify", {"passed": False})
    assert failed.status_code == 400 and list(failed.json()) == ["note"]
    assert post(expert, ticket, "verify", {"passed": True}).json()["status"] == Status.RESOLVED
    assert requester.get(f"/api/tickets/{ticket.pk}/transitions/").json() == {
        "status": "resolved",
        "actions": ["confirm", "reject"],
    }
    rejected = post(requester, ticket, "reject", {"reason": "still down"})
    assert rejected.json()["status"] == Status.IN_PROGRESS
    post(engineer, ticket, "resolve", {"resolution": "really fixed"})
    post(expert, ticket, "verify", {"passed": True, "note": "checked"})
    closed = post(requester, ticket, "confirm")
    assert closed.json()["status"] == Status.CLOSED
    reopened = post(requester, ticket, "reopen", {"reason": "down again"})
    assert reopened.json()["status"] == Status.IN_PROGRESS
    timeline = requester.get(f"/api/tickets/{ticket.pk}/timeline/").json()
    statuses = [e["new_value"] for e in timeline if e["kind"] == EventKind.STATUS_CHANGED]
    assert statuses == [
        "queued",
        "in_progress",
        "queued",
        "in_progress",
        "queued",
        "in_progress",
        "pending_verification",
        "resolved",
        "in_progress",
        "pending_verification",
        "resolved",
        "closed",
        "in_progress",
    ]


def test_required_reasons_are_field_errors(desk):
    ticket = TicketFactory(desk).in_progress()
    agent = client_for(desk.tier1)
    assert post(agent, ticket, "resolve", {"resolution": "  "}).json() == {
        "resolution": ["A resolution note is required."]
    }
    assert list(post(agent, ticket, "dispatch", {"team": desk.middle.pk}).json()) == ["reason"]
    assert list(post(agent, ticket, "suspend", {"reason": "lunch"}).json()) == ["reason"]
    assert list(post(agent, ticket, "assign", {"assignee": desk.expert.pk}).json()) == ["assignee"]
    assert list(post(agent, ticket, "dispatch", {"team": 10**30, "reason": "x"}).json()) == ["team"]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS


def test_illegal_action_names_what_is_allowed(desk):
    ticket = TicketFactory(desk).new()
    response = post(client_for(desk.requester), ticket, "confirm")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "“confirm” is not possible while the ticket is “New”.",
        "status": "new",
        "allowed": ["cancel"],
    }


def test_requester_cannot_do_agents_actions(desk):
    ticket = TicketFactory(desk).in_progress()
    response = post(client_for(desk.requester), ticket, "resolve", {"resolution": "self-fixed"})
    assert response.status_code == 409
    assert response.json()["allowed"] == ["cancel"]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS


def test_take_of_a_ticket_already_taken_is_409(desk):
    ticket = TicketFactory(desk).in_progress()
    response = post(client_for(desk.tier2), ticket, "take")
    assert response.status_code == 409
    assert Ticket.objects.get(pk=ticket.pk).assignee == desk.tier1


def test_assign_reassigns_within_the_team(desk):
    ticket = TicketFactory(desk).in_progress()
    response = post(client_for(desk.tier1), ticket, "assign", {"assignee": desk.tier2.pk})
    assert response.status_code == 200
    assert response.json()["assignee"]["id"] == desk.tier2.pk


def test_merge_by_number_or_id(desk):
    duplicate, keeper = TicketFactory(desk).in_progress(), TicketFactory(desk).in_progress()
    agent = client_for(desk.tier1)
    response = post(agent, duplicate, "merge", {"into": keeper.number, "reason": "same"})
    assert response.status_code == 200, response.json()
    assert response.json()["merged_into"] == keeper.number
    assert response.json()["status"] == Status.CANCELLED
    other = TicketFactory(desk).in_progress()
    assert post(agent, other, "merge", {"into": str(keeper.pk)}).status_code == 200


@pytest.mark.parametrize("into", ["SD-0000-000000", "999999999", "x" * 33, "\x00", "-1"])
def test_merge_into_unknown_ticket_is_a_field_error(desk, into):
    ticket = TicketFactory(desk).in_progress()
    response = post(client_for(desk.tier1), ticket, "merge", {"into": into})
    assert response.status_code == 400 and list(response.json()) == ["into"]


def test_merge_into_a_ticket_you_cannot_see_is_a_field_error(desk):
    ticket = TicketFactory(desk).in_progress()
    hidden = TicketFactory(desk).new(requester=desk.other_requester)
    services.ticket_route(ticket_id=hidden.pk, actor=None, tier="back", team=desk.back)
    response = post(client_for(desk.tier1), ticket, "merge", {"into": hidden.number})
    assert response.json() == {"into": ["No such ticket."]}


def test_priority_override(desk):
    ticket = TicketFactory(desk).in_progress()
    response = post(client_for(desk.tier2), ticket, "priority", {"priority": "P1", "reason": "VIP"})
    assert response.status_code == 200 and response.json()["priority"] == "P1"
    refused = post(client_for(desk.tier1), ticket, "priority", {"priority": "P2", "reason": "x"})
    assert refused.status_code == 403


def test_escalate_without_a_next_team_asks_for_one(desk):
    ticket = TicketFactory(desk).in_progress()
    Ticket.objects.filter(pk=ticket.pk).update(team=desk.back, tier="back")
    response = post(client_for(desk.admin), ticket, "escalate", {"reason": "x"})
    assert response.status_code == 400 and list(response.json()) == ["team"]


def test_if_match_refuses_a_change_to_a_ticket_changed_since_it_was_read(desk):
    ticket = TicketFactory(desk).in_progress()
    agent = client_for(desk.tier2)
    seen = agent.get(f"/api/tickets/{ticket.pk}/")["ETag"]
    services.ticket_set_priority(ticket_id=ticket.pk, actor=desk.tier2, priority="P2", reason="x")
    stale = agent.post(
        f"/api/tickets/{ticket.pk}/priority/",
        {"priority": "P1", "reason": "VIP"},
        format="json",
        headers={"If-Match": seen},
    )
    assert stale.status_code == 409
    # The refusal says what the ticket is now and what the caller may do on it.
    body = stale.json()
    assert body["detail"] == (
        "The ticket was changed by someone else at the same time. Reload it and try again."
    )
    assert body["status"] == Status.IN_PROGRESS and "priority" in body["allowed"]
    assert Ticket.objects.get(pk=ticket.pk).priority == "P2"
    current = agent.get(f"/api/tickets/{ticket.pk}/")["ETag"]
    assert current != seen
    fresh = agent.post(
        f"/api/tickets/{ticket.pk}/priority/",
        {"priority": "P1", "reason": "VIP"},
        format="json",
        headers={"If-Match": current},
    )
    assert fresh.status_code == 200 and fresh.json()["priority"] == "P1"
    assert fresh["ETag"] not in (seen, current)


def test_cancel_by_requester(desk):
    ticket = TicketFactory(desk).new()
    response = post(client_for(desk.requester), ticket, "cancel")
    assert response.status_code == 200 and response.json()["status"] == Status.CANCELLED


def test_users_are_never_written_by_reads(desk):
    before = User.objects.count()
    client_for(desk.requester).get("/api/tickets/")
    assert User.objects.count() == before


# --- the schema -----------------------------------------------------------------------------


def test_openapi_schema_has_no_errors_or_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/tickets/{id}/take/:" in schema
    assert "Idempotency-Key" in schema


def test_schema_and_docs_are_served(desk):
    client = client_for(desk.requester)
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
