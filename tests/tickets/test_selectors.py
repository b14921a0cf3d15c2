"""Who sees which tickets (issue #3 §5), the list filters, and what a list page costs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.choices import Role, Tier
from accounts.models import User
from catalog.models import RequestType
from tests.factories import TicketFactory, UserFactory
from tickets import services
from tickets.choices import Priority, Status
from tickets.models import Ticket
from tickets.selectors import TicketFilters, ticket_get, ticket_list

pytestmark = pytest.mark.django_db


@dataclass
class Tickets:
    alice_front: Ticket
    bob_middle: Ticket
    bob_back_owned: Ticket
    alice_triage: Ticket
    bob_front_helped: Ticket
    bob_fix_to_verify: Ticket


@pytest.fixture
def tickets(desk) -> Tickets:
    alice_front = TicketFactory(desk).queued(title="Alice front")
    bob_middle = TicketFactory(desk).queued(
        desk.middle, requester=desk.other_requester, title="Bob middle"
    )
    bob_back = TicketFactory(desk).in_progress(
        desk.back, requester=desk.other_requester, title="Bob back"
    )
    alice_triage = TicketFactory(desk).new(title="Alice triage")
    services.ticket_send_to_triage(ticket_id=alice_triage.pk, reason="unsure")
    helped = TicketFactory(desk).in_progress(requester=desk.other_requester, title="Bob front")
    # An expert from another team was made its owner (e.g. took it over on a call): whoever a
    # ticket is assigned to sees it, whatever their teams.
    Ticket.objects.filter(pk=helped.pk).update(assignee=desk.expert)
    fixed = TicketFactory(desk).pending_verification(
        requester=desk.other_requester, title="Bob fix"
    )
    return Tickets(alice_front, bob_middle, bob_back, alice_triage, helped, fixed)


def chief_of_group(desk) -> User:
    """A requester who manages the whole group (a unit manager, not a desk manager)."""
    chief = UserFactory(username="chief", unit=desk.unit_b, roles=[Role.REQUESTER])
    chief.managed_units.add(desk.group)
    return chief


VISIBLE = {
    "requester": {"alice_front", "alice_triage"},
    "other_requester": {"bob_middle", "bob_back_owned", "bob_front_helped", "bob_fix_to_verify"},
    # Agents: their teams' tickets, those assigned to them, (dispatchers) the manual triage
    # queue, and (experts who verify) back-office fixes waiting for verification.
    "tier1": {"alice_front", "bob_front_helped", "alice_triage"},
    "tier2": {"alice_front", "bob_front_helped", "alice_triage"},
    "expert": {"bob_middle", "bob_front_helped", "alice_triage", "bob_fix_to_verify"},
    "engineer": {"bob_back_owned", "bob_fix_to_verify"},
    # Another front office: the triage queue, and (read-only) the tickets of unit B, whose
    # callers it answers.
    "outsider_agent": {
        "alice_triage",
        "bob_middle",
        "bob_back_owned",
        "bob_front_helped",
        "bob_fix_to_verify",
    },
    # The manager manages unit A: alice's tickets.
    "manager": {"alice_front", "alice_triage"},
    "admin": {
        "alice_front",
        "bob_middle",
        "bob_back_owned",
        "alice_triage",
        "bob_front_helped",
        "bob_fix_to_verify",
    },
}


def fresh(user: User) -> User:
    """The user as a new request loads it: no cached permissions or teams."""
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_visibility_matrix_of_the_list(desk, tickets, who):
    viewer = fresh(getattr(desk, who))
    by_id = {getattr(tickets, name).pk: name for name in VISIBLE["admin"]}
    seen = {by_id[pk] for pk in ticket_list(viewer=viewer).values_list("pk", flat=True)}
    assert seen == VISIBLE[who]


@pytest.mark.parametrize("who", sorted(VISIBLE))
def test_ticket_get_hides_what_the_list_hides(desk, tickets, who):
    viewer = fresh(getattr(desk, who))
    for name in VISIBLE["admin"]:
        ticket = getattr(tickets, name)
        if name in VISIBLE[who]:
            assert ticket_get(viewer=viewer, ticket_id=ticket.pk) == ticket
            assert ticket_get(viewer=viewer, number=ticket.number) == ticket
        else:
            with pytest.raises(Ticket.DoesNotExist):
                ticket_get(viewer=viewer, ticket_id=ticket.pk)
            with pytest.raises(Ticket.DoesNotExist):
                ticket_get(viewer=viewer, number=ticket.number)


def test_a_unit_manager_sees_the_units_below_theirs(desk, tickets):
    chief = chief_of_group(desk)
    seen = set(ticket_list(viewer=fresh(chief)).values_list("pk", flat=True))
    assert seen == {getattr(tickets, name).pk for name in VISIBLE["admin"]}


def test_a_sub_unit_manager_does_not_see_the_parent_unit(desk, tickets):
    department = desk.unit_a.add_child(code="unit-a-ops", name="Ops", kind="department")
    ops_user = UserFactory(username="ops", unit=department, roles=[Role.REQUESTER])
    ops_ticket = TicketFactory(desk).new(requester=ops_user, title="Ops")
    head = UserFactory(username="head", roles=[Role.REQUESTER])
    head.managed_units.add(department)
    assert list(ticket_list(viewer=fresh(head))) == [ops_ticket]
    # The manager of unit A sees the department's tickets too.
    assert ops_ticket in ticket_list(viewer=fresh(desk.manager))


def test_a_team_change_moves_visibility_with_the_ticket(desk, tickets):
    def seen_by(user):
        return set(ticket_list(viewer=fresh(user)).values_list("pk", flat=True))

    moved = tickets.bob_middle
    assert moved.pk not in seen_by(desk.engineer)
    services.ticket_dispatch(ticket_id=moved.pk, actor=desk.expert, team=desk.back, reason="x")
    assert moved.pk in seen_by(desk.engineer)
    # The expert who dispatched it keeps sight of it (follows it) until they unfollow.
    assert moved.pk in seen_by(desk.expert)
    services.ticket_unfollow(ticket=moved, actor=desk.expert)
    assert moved.pk not in seen_by(desk.expert)


@pytest.mark.parametrize("bad", [0, -1, 2**63 - 1, 10**6])
def test_ticket_get_of_unknown_ids_is_does_not_exist(desk, bad):
    with pytest.raises(Ticket.DoesNotExist):
        ticket_get(viewer=fresh(desk.admin), ticket_id=bad)


def test_the_list_is_newest_first(desk, tickets):
    ids = list(ticket_list(viewer=fresh(desk.admin)).values_list("pk", flat=True))
    assert ids == sorted(ids, reverse=True)


# --- filters ------------------------------------------------------------------------------------


@pytest.fixture
def varied(desk):
    """Tickets differing in one attribute each, for the filters."""
    fault = RequestType.objects.get(code="fault")
    department = desk.unit_a.add_child(code="unit-a-ops", name="Ops", kind="department")
    ops_user = UserFactory(username="ops", unit=department, roles=[Role.REQUESTER])
    made = {
        "plain": TicketFactory(desk).queued(title="Printer jammed"),
        "urgent": TicketFactory(desk).queued(title="Trading down"),
        "fault": TicketFactory(desk).queued(desk.middle, title="Matching engine crash"),
        "owned": TicketFactory(desk).in_progress(title="Laptop slow"),
        "back": TicketFactory(desk).in_progress(desk.back, title="Batch failed"),
        "triage": TicketFactory(desk).new(title="打印机无法打印"),
        "bob": TicketFactory(desk).queued(requester=desk.other_requester, title="Bob's mail"),
        "ops": TicketFactory(desk).queued(requester=ops_user, title="Ops VPN"),
        "done": TicketFactory(desk).closed(title="Old VPN issue"),
    }
    services.ticket_set_priority(
        ticket_id=made["urgent"].pk, actor=desk.admin, priority=Priority.P1, reason="trading"
    )
    services.ticket_classify(
        ticket_id=made["fault"].pk, actor=None, request_type=fault, system=desk.system
    )
    services.ticket_send_to_triage(ticket_id=made["triage"].pk, reason="unsure")
    return {name: Ticket.objects.get(pk=t.pk) for name, t in made.items()}


def filtered(desk, **filters) -> set[str]:
    return {
        t.title for t in ticket_list(viewer=fresh(desk.admin), filters=TicketFilters(**filters))
    }


def titles(varied, *names: str) -> set[str]:
    return {varied[name].title for name in names}


def test_filter_by_status_and_open_only(desk, varied):
    assert filtered(desk, status=[Status.IN_PROGRESS]) == titles(varied, "owned", "back")
    assert filtered(desk, status=[Status.CLOSED, Status.NEW]) == titles(varied, "done", "triage")
    open_titles = set(titles(varied, *varied)) - titles(varied, "done")
    assert filtered(desk, open_only=True) == open_titles
    # An explicit status wins over open_only.
    assert filtered(desk, status=[Status.CLOSED], open_only=True) == titles(varied, "done")


def test_filter_by_priority_type_system(desk, varied):
    assert filtered(desk, priority=[Priority.P1]) == titles(varied, "urgent")
    assert filtered(desk, request_type=["fault"]) == titles(varied, "fault")
    assert filtered(desk, request_type=["no-such-type"]) == set()
    assert filtered(desk, system=[desk.system.pk]) == titles(varied, "fault")


def test_filter_by_team_tier_and_unit(desk, varied):
    assert filtered(desk, team=[desk.middle.pk]) == titles(varied, "fault")
    assert filtered(desk, tier=[Tier.BACK]) == titles(varied, "back")
    assert filtered(desk, unit=varied["ops"].unit_id) == titles(varied, "ops")
    # A unit includes its departments.
    assert filtered(desk, unit=desk.unit_a.pk) == set(titles(varied, *varied)) - titles(
        varied, "bob"
    )
    assert filtered(desk, unit=desk.unit_b.pk) == titles(varied, "bob")
    assert filtered(desk, unit=999_999) == set()


def test_filter_by_people(desk, varied):
    assert filtered(desk, assignee=desk.engineer.pk) == titles(varied, "back")
    assert filtered(desk, requester=desk.other_requester.pk) == titles(varied, "bob")
    unassigned = filtered(desk, unassigned=True)
    assert titles(varied, "plain", "triage", "bob") <= unassigned
    assert not unassigned & titles(varied, "owned", "back", "done")


def test_filter_by_triage(desk, varied):
    assert filtered(desk, needs_triage=True) == titles(varied, "triage")
    assert titles(varied, "triage") & filtered(desk, needs_triage=False) == set()


def test_search_by_number_or_title(desk, varied):
    assert filtered(desk, q=varied["owned"].number) == titles(varied, "owned")
    assert filtered(desk, q=varied["owned"].number.lower()) == titles(varied, "owned")
    assert filtered(desk, q="  vpn ") == titles(varied, "ops", "done")
    assert filtered(desk, q="无法打印") == titles(varied, "triage")
    assert filtered(desk, q="%") == set()  # a literal percent sign, not a wildcard


def test_filters_combine_and_never_widen_visibility(desk, varied):
    assert filtered(desk, status=[Status.QUEUED], team=[desk.front.pk], q="vpn") == titles(
        varied, "ops"
    )
    bob_sees = {
        t.title
        for t in ticket_list(
            viewer=fresh(desk.other_requester), filters=TicketFilters(team=[desk.front.pk])
        )
    }
    assert bob_sees == titles(varied, "bob")


# --- cost -------------------------------------------------------------------------------------


def read_page(viewer: User) -> list[tuple]:
    """A list page as the API and the workspace show it: every list column and relation."""
    return [
        (
            t.number,
            t.requester.username,
            str(t.requester),
            t.assignee and str(t.assignee),
            t.team and t.team.label,
            t.request_type and t.request_type.label,
            t.system and t.system.label,
            t.unit and t.unit.label,
        )
        for t in ticket_list(viewer=viewer, filters=TicketFilters(open_only=True))[:50]
    ]


def make_tickets(desk, count: int) -> None:
    fault = RequestType.objects.get(code="fault")
    for n in range(count):
        ticket, _ = services.ticket_create(
            requester=desk.requester if n % 2 else desk.other_requester,
            title=f"Ticket {n}",
            created_by=desk.tier1,
            channel="phone",
            system=desk.system,
            request_type=fault,
        )
        services.ticket_route(ticket_id=ticket.pk, actor=None, tier=Tier.FRONT, team=desk.front)
        if n % 3 == 0:
            services.ticket_take(ticket_id=ticket.pk, actor=desk.tier2)


def test_a_list_page_costs_at_most_ten_queries_whatever_the_size(
    desk, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for total in (5, 60):
        make_tickets(desk, total - Ticket.objects.count())
        viewer = fresh(desk.tier1)
        with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as ctx:
            rows = read_page(viewer)
        assert len(rows) == min(total, 50)
        assert all(row[4] == desk.front.label and row[6] == desk.system.label for row in rows)
        counts[total] = len(ctx.captured_queries)
    assert counts[5] == counts[60]
