"""The catalogue of ticket actions (`tickets.actions`) is the one source of what can be done to
a ticket: the state machine's transitions, the API's endpoints, the workspace's buttons, forms,
handlers and bulk actions, and the portal's answers are all read from it."""

from __future__ import annotations

import re

import pytest
from django.urls import resolve, reverse
from drf_spectacular.generators import SchemaGenerator

from tests.factories import TicketFactory
from tickets import actions, permissions, services
from tickets.api.views import TicketViewSet
from tickets.choices import Status
from tickets.models import Ticket
from workspace.forms import BulkForm

pytestmark = pytest.mark.django_db

# The viewset's endpoints that are not ticket actions (reads and the conversation).
NOT_ACTIONS = {"timeline", "transitions", "comments", "attachments"}


def _state_machine() -> dict[str, object]:
    """Every transition of the ticket's state machine by name, with its permission."""
    field = Ticket._meta.get_field("status")
    return {t.name: t.permission for t in field.get_all_transitions(Ticket)}


def test_every_transition_offers_exactly_one_action_or_is_the_desks_own():
    transitions = _state_machine()
    assert set(actions.OFFERED_BY) | set(actions.SYSTEM_TRANSITIONS) == set(transitions)
    assert not set(actions.OFFERED_BY) & set(actions.SYSTEM_TRANSITIONS)
    # Each user transition is offered by one action, named in that action's `transitions`.
    for name, offered in actions.OFFERED_BY.items():
        claiming = [a.name for a in actions.ACTIONS if a.may is None and name in a.transitions]
        assert claiming == [offered], name
    # The desk's own transitions are exactly those no person may make.
    system = {name for name, rule in transitions.items() if rule is permissions.system_only}
    assert system == set(actions.SYSTEM_TRANSITIONS)
    # Every transition an action names exists.
    for action in actions.ACTIONS:
        assert set(action.transitions) <= set(transitions), action.name
        assert action.transitions or action.may is not None, action.name


def test_the_catalogue_refuses_a_transition_offering_two_actions(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    take_again = actions.TicketAction(
        name="take_again",
        label="Take again",
        done="%(number)s",
        transitions=("start_work",),
        perform=lambda t, actor, d: None,
        serializer=actions.inputs.EmptySerializer,
        form=actions.forms.EmptyForm,
        api_doc="",
    )
    monkeypatch.setattr(actions, "ACTIONS", (*actions.ACTIONS, take_again))
    with pytest.raises(ImproperlyConfigured, match="offers both 'take' and 'take_again'"):
        actions._offering_actions()


def test_the_api_has_one_endpoint_per_action_and_no_other_writes():
    extra = {
        a.url_path: a for a in TicketViewSet.get_extra_actions() if a.url_path not in NOT_ACTIONS
    }
    assert sorted(extra) == sorted(a.name for a in actions.ACTIONS)
    for action in actions.ACTIONS:
        assert extra[action.name].mapping == {"post": action.api_method or action.name}
        match = resolve(reverse(f"api-ticket-{action.name}", args=[1]))
        assert match.func.cls is TicketViewSet
        assert match.func.actions == {"post": action.api_method or action.name}


def test_each_action_endpoint_is_documented_with_its_own_input_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for action in actions.ACTIONS:
        operation = schema["paths"][f"/api/tickets/{{id}}/{action.name}/"]["post"]
        assert operation["description"] == action.api_doc
        if not action.serializer().fields:  # no input: no request body
            assert "requestBody" not in operation, action.name
        else:
            component = action.serializer.__name__.removesuffix("Serializer") + "Request"
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body == {"$ref": f"#/components/schemas/{component}"}
        assert set(operation["responses"]) == {"200", "400", "403", "404", "409"}


def test_available_follows_the_catalogue_order_and_the_state_machine(desk):
    ticket = TicketFactory(desk).queued(desk.front)
    order = [a.name for a in actions.ACTIONS]
    offered = actions.available(ticket=ticket, viewer=desk.tier1)
    assert offered == ["take", "assign", "dispatch", "escalate", "cancel", "merge"]
    assert offered == sorted(offered, key=order.index)
    assert actions.available(ticket=ticket, viewer=desk.requester) == ["cancel"]
    assert actions.available(ticket=ticket, viewer=desk.manager) == ["priority"]


def _buttons(html: str) -> list[tuple[str, str]]:
    found = re.findall(r'data-testid="action-([a-z_]+)">([^<…]+)', html)
    return [(name, label.strip()) for name, label in found]


def test_workspace_buttons_and_labels_come_from_the_catalogue(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier1)
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    expected = actions.available(ticket=ticket, viewer=desk.tier1)
    assert _buttons(html) == [(name, str(actions.BY_NAME[name].label)) for name in expected]
    # Only the direct action is a button that acts; the others open their catalogue form.
    assert ' id="action-take"' not in html
    for name in expected:
        if not actions.BY_NAME[name].direct:
            assert f' id="action-{name}"' in html


def test_bulk_actions_are_the_catalogues(desk):
    choices = BulkForm().fields["action"].choices
    assert [(name, str(label)) for name, label in choices] == [
        ("take", "Take"),
        ("assign", "Assign to…"),
        ("resolve", "Resolve…"),
        ("cancel", "Cancel as invalid…"),
    ]
    assert [name for name, _label in choices] == [a.name for a in actions.bulk_actions()]


def test_an_unknown_action_is_a_404(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier1)
    assert client.post(reverse("workspace:act", args=[ticket.number, "fly"])).status_code == 404


def _back_office_ticket(desk) -> Ticket:
    ticket = TicketFactory(desk).queued(desk.back)
    return services.ticket_take(ticket_id=ticket.pk, actor=desk.engineer)


def test_back_office_resolve_says_the_fix_was_submitted_not_resolved(client, desk):
    """The defect: submitting a fix for verification reported "was resolved"."""
    ticket = _back_office_ticket(desk)
    client.force_login(desk.engineer)
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert ("resolve", "Submit the fix for verification") in _buttons(html)
    response = client.post(
        reverse("workspace:act", args=[ticket.number, "resolve"]),
        {"resolution": "Restarted the matching engine"},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_VERIFICATION
    assert [str(m) for m in response.context["messages"]] == [
        f"The fix for {ticket.number} was submitted for verification."
    ]


def test_front_office_resolve_still_says_resolved(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    client.force_login(desk.tier1)
    response = client.post(
        reverse("workspace:act", args=[ticket.number, "resolve"]),
        {"resolution": "Reset the password"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [f"{ticket.number} was resolved."]


def test_the_back_office_message_is_translated(desk):
    from django.utils import translation

    ticket = _back_office_ticket(desk)
    with translation.override("zh-hans"):
        assert actions.BY_NAME["resolve"].done_for(ticket) == f"{ticket.number} 的修复已提交验证。"
        assert str(actions.BY_NAME["resolve"].label_for(ticket)) == "提交修复待验证"


def test_take_in_the_workspace_is_refused_once_someone_else_has_it(client, desk):
    """Like the API's take: a ticket no longer in the queue is not taken over."""
    ticket = TicketFactory(desk).queued(desk.front)
    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier2)
    client.force_login(desk.tier1)
    response = client.post(reverse("workspace:act", args=[ticket.number, "take"]), follow=True)
    ticket.refresh_from_db()
    assert ticket.assignee == desk.tier2
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_merge_from_the_workspace_by_number(client, desk):
    kept = TicketFactory(desk).queued(desk.front, title="kept")
    duplicate = TicketFactory(desk).queued(desk.front, title="duplicate")
    client.force_login(desk.tier1)
    url = reverse("workspace:act", args=[duplicate.number, "merge"])
    unknown = client.post(url, {"into": "SD-1999-000001", "reason": ""})
    assert unknown.status_code == 400
    assert "No such ticket." in unknown.content.decode()
    client.post(url, {"into": kept.number, "reason": "same VPN fault"})
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into) == (Status.CANCELLED, kept)


def test_the_portals_answers_are_catalogue_actions(client, desk):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.requester)
    response = client.post(reverse("portal:withdraw", args=[ticket.number]), {"note": "sorted"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED
    assert ticket.events.filter(data__transition="cancel").get().message == "sorted"


# --- a new action needs the catalogue only --------------------------------------------------

NOTE_ACTION = actions.TicketAction(
    name="jot",
    label="Jot a note",
    done="A note is on %(number)s.",
    may=lambda ticket, viewer: permissions.works_on(ticket, viewer),
    perform=lambda t, actor, d: services.comment_add(
        ticket_id=t.pk, actor=actor, body=d["note"], is_internal=True
    ),
    serializer=actions.inputs.NoteSerializer,
    form=actions.forms.NoteForm,
    api_doc="Jot an internal note.",
)


@pytest.fixture
def with_note_action(monkeypatch):
    monkeypatch.setattr(actions, "ACTIONS", (*actions.ACTIONS, NOTE_ACTION))
    monkeypatch.setattr(actions, "BY_NAME", {**actions.BY_NAME, "jot": NOTE_ACTION})
    return NOTE_ACTION


def test_a_new_catalogue_entry_is_a_workspace_button_with_its_form(client, desk, with_note_action):
    ticket = TicketFactory(desk).queued(desk.front)
    client.force_login(desk.tier1)
    html = client.get(reverse("workspace:ticket", args=[ticket.number])).content.decode()
    assert _buttons(html)[-1] == ("jot", "Jot a note")
    response = client.post(
        reverse("workspace:act", args=[ticket.number, "jot"]), {"note": "VPN logs"}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [f"A note is on {ticket.number}."]
    assert ticket.comments.get().body == "VPN logs"


def test_a_new_catalogue_entry_is_an_api_endpoint(desk, with_note_action):
    from rest_framework.routers import SimpleRouter
    from rest_framework.test import APIRequestFactory, force_authenticate

    from tickets.api.views import _action_endpoint

    class Probe(TicketViewSet):
        pass

    Probe.jot = _action_endpoint(NOTE_ACTION)
    router = SimpleRouter()
    router.register("tickets", Probe, basename="probe")
    assert "probe-jot" in {url.name for url in router.urls}
    ticket = TicketFactory(desk).queued(desk.front)
    request = APIRequestFactory().post("/", {"note": "from the API"}, format="json")
    force_authenticate(request, user=desk.tier1)
    response = Probe.as_view({"post": "jot"})(request, pk=str(ticket.pk))
    assert response.status_code == 200
    assert "jot" in response.data["actions"]
    assert ticket.comments.get().body == "from the API"
