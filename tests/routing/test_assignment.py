"""Assignment within a team: round robin, least loaded, skills, away people, manual teams."""

from accounts.choices import AssignmentStrategy, Role, Tier
from catalog.models import Category
from routing import services
from routing.models import ClassificationRule, RoundRobinCursor
from tests.factories import TeamFactory, UserFactory, agent, request_type
from tickets.choices import EventKind, Status
from tickets.models import Ticket

from .helpers import log


def helpdesk(strategy: str, n: int = 3, **agent_kwargs):
    team = TeamFactory(code="helpdesk", name="Helpdesk", tier=Tier.FRONT, is_on_duty=True)
    team.assignment_strategy = strategy
    team.save(update_fields=["assignment_strategy"])
    people = [
        agent(team, Role.FRONT_TIER1, username=f"hd{i}", display_name=f"hd{i}") for i in range(n)
    ]
    ClassificationRule.objects.create(
        name="consult", keywords="?", set_request_type=request_type("consultation")
    )
    return team, people


def test_round_robin_sequence(desk, create):
    team, (a, b, c) = helpdesk(AssignmentStrategy.ROUND_ROBIN)
    assignees = [create(f"question {i}?").assignee for i in range(5)]
    assert assignees == [a, b, c, a, b]
    assert RoundRobinCursor.objects.get(team=team).last_assignee == b
    ticket = Ticket.objects.filter(team=team).order_by("id").first()
    entry = log(ticket, EventKind.ASSIGNED)[0]
    assert entry.message == "round robin in Helpdesk: hd0"
    assert entry.actor_id is None


def test_round_robin_skips_away_people_and_non_agents(desk, create):
    team, (a, b, c) = helpdesk(AssignmentStrategy.ROUND_ROBIN)
    b.is_away = True
    b.save(update_fields=["is_away"])
    inspector = UserFactory(username="qa", display_name="qa", roles=[Role.QA_INSPECTOR])
    team.memberships.create(user=inspector)
    assert [create(f"q{i}?").assignee for i in range(3)] == [a, c, a]


def test_everybody_away_leaves_the_ticket_queued(desk, create):
    team, people = helpdesk(AssignmentStrategy.ROUND_ROBIN, n=2)
    for person in people:
        person.is_away = True
        person.save(update_fields=["is_away"])
    ticket = create("anyone?")
    assert (ticket.status, ticket.team, ticket.assignee) == (Status.QUEUED, team, None)
    assert log(ticket, EventKind.ROUTED)[0].message == (
        "nobody in Helpdesk can take it now (away or no agents): left in the queue"
    )


def test_least_loaded_weighs_open_tickets_by_priority(desk, create):
    team, (a, b, c) = helpdesk(AssignmentStrategy.LEAST_LOADED)
    # Open work weighted P1 4, P2 3, P3 2, P4 1: a = 4 (one ticket), b = 3 (three tickets),
    # c = 3 + 2 = 5. Counting tickets would pick a; weighting picks b.
    requester = desk.requester
    for user, priorities in ((a, ["P1"]), (b, ["P4", "P4", "P4"]), (c, ["P2", "P3"])):
        for priority in priorities:
            Ticket.objects.create(
                number=f"T-{user.pk}-{Ticket.objects.count()}",
                title="load",
                requester=requester,
                channel="portal",
                team=team,
                assignee=user,
                priority=priority,
                status=Status.IN_PROGRESS,
            )
    # Closed work does not count.
    Ticket.objects.create(
        number="T-closed",
        title="old",
        requester=requester,
        channel="portal",
        assignee=a,
        priority="P1",
        status=Status.CLOSED,
    )
    first = create("who?")
    assert first.assignee == b
    assert log(first, EventKind.ASSIGNED)[0].message == "least loaded in Helpdesk: hd1 (load 3)"
    second = create("who next?")  # b now has 3 + 2 (the P3 just given) = 5; a has 4
    assert second.assignee == a


def test_skill_based_picks_the_matching_member(desk, create):
    team = TeamFactory(
        code="net",
        name="Network desk",
        tier=Tier.FRONT,
        is_on_duty=True,
        assignment_strategy=AssignmentStrategy.SKILL,
    )
    generalist = agent(
        team, Role.FRONT_TIER1, username="gen", display_name="gen", skills=["printer"]
    )
    vpn_expert = agent(
        team, Role.FRONT_TIER1, username="vpn", display_name="vpn", skills=["network-vpn", "wifi"]
    )
    ClassificationRule.objects.create(
        name="VPN",
        keywords="vpn",
        set_request_type=request_type("consultation"),
        set_category=Category.objects.get(code="network-vpn"),
    )
    ticket = create("How do I install the VPN client?")
    assert ticket.assignee == vpn_expert
    assert log(ticket, EventKind.ASSIGNED)[0].message == (
        "skill match in Network desk (network-vpn): vpn"
    )
    # No skill matches: the least loaded member (the generalist has nothing open).
    ClassificationRule.objects.create(
        name="other", keywords="scanner", set_request_type=request_type("consultation")
    )
    other = create("scanner question")
    assert other.assignee == generalist
    assert log(other, EventKind.ASSIGNED)[0].message.startswith("no skill match in Network desk")


def test_parent_category_skill_matches(desk, create):
    team = TeamFactory(
        code="net",
        name="Network desk",
        tier=Tier.FRONT,
        is_on_duty=True,
        assignment_strategy=AssignmentStrategy.SKILL,
    )
    agent(team, Role.FRONT_TIER1, username="gen", display_name="gen")
    network = agent(
        team, Role.FRONT_TIER1, username="netty", display_name="netty", skills=["NETWORK"]
    )
    ClassificationRule.objects.create(
        name="Wi-Fi",
        keywords="wifi",
        set_request_type=request_type("consultation"),
        set_category=Category.objects.get(code="network-wifi"),
    )
    assert create("wifi password?").assignee == network


def test_manual_strategy_assigns_nobody(desk, create):
    team, _people = helpdesk(AssignmentStrategy.MANUAL)
    ticket = create("manual?")
    assert (ticket.status, ticket.team, ticket.assignee) == (Status.QUEUED, team, None)
    assert log(ticket, EventKind.ROUTED)[0].message == (
        "Helpdesk assigns by hand: left in the queue"
    )


def test_agent_can_still_take_or_reassign_by_hand(desk, create):
    from tickets.services import ticket_assign, ticket_take

    _team, (a, b, _c) = helpdesk(AssignmentStrategy.MANUAL)
    ticket = create("manual?")
    ticket_take(ticket_id=ticket.pk, actor=b)
    ticket = ticket_assign(ticket_id=ticket.pk, actor=b, assignee=a, reason="a knows this")
    assert ticket.assignee == a


def test_routing_a_ticket_again_leaves_its_assignee(desk, create):
    """A redelivered intake (the reaction run twice) neither routes nor assigns again."""
    _team, (a, _b, _c) = helpdesk(AssignmentStrategy.ROUND_ROBIN)
    ticket = create("q?")
    assert ticket.assignee == a
    events = ticket.events.count()
    assert services.routing_auto_route(ticket_id=ticket.pk).assignee == a
    ticket.refresh_from_db()
    assert ticket.assignee == a
    assert ticket.events.count() == events


def test_eligible_members_are_those_with_perm_selects_in_one_query(db):
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import TeamMembership, User
    from routing import engine

    team = TeamFactory(code="mixed", tier=Tier.FRONT)
    by_role = agent(team, Role.FRONT_TIER1, username="by-role")
    granted = agent(team, Role.REQUESTER, username="granted")
    granted.user_permissions.add(Permission.objects.get(codename="handle_tickets"))
    superuser = agent(team, Role.REQUESTER, username="root", is_superuser=True)
    agent(team, Role.REQUESTER, username="requester")
    agent(team, Role.FRONT_TIER1, username="away", is_away=True)
    agent(team, Role.FRONT_TIER1, username="gone", is_active=False)
    elsewhere = UserFactory(username="elsewhere", roles=[Role.FRONT_TIER1])

    with CaptureQueriesContext(connection) as queries:
        eligible = [m.user for m in engine.eligible_memberships(team)]
    assert len(queries) == 1
    assert eligible == sorted([by_role, granted, superuser], key=lambda u: u.pk)
    assert {u.pk for u in eligible} == set(
        TeamMembership.objects.filter(
            team=team,
            user__is_away=False,
            user__in=User.objects.with_perm("accounts.handle_tickets"),
        ).values_list("user_id", flat=True)
    )
    assert elsewhere not in eligible
