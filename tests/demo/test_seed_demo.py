"""`seed_demo` builds the whole demo desk, a second run changes nothing, and every role can
sign in with the documented password."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count

from accounts.choices import Role, Tier
from accounts.models import OrgUnit, Team, TeamMembership, User
from catalog.models import InformationSystem, SystemModule
from demo.data import DEMO_PASSWORD, ROLE_LOGINS, STATUS_MIX
from demo.services import _Desk, _plans
from tickets.choices import EventKind, Status
from tickets.models import Ticket, TicketEvent


def model_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def key_fields_digest() -> str:
    """A hash of what the demo is: who is who, which team owns what, where each ticket is."""
    rows = {
        "units": list(OrgUnit.objects.order_by("path").values_list("code", "path", "name_zh")),
        "users": [
            (
                u.username,
                u.display_name,
                u.unit.code if u.unit else "",
                u.is_staff,
                sorted(g.name for g in u.groups.all()),
            )
            for u in User.objects.select_related("unit")
            .prefetch_related("groups")
            .order_by("username")
        ],
        "teams": [
            (
                t.code,
                t.tier,
                t.lead.username if t.lead else "",
                t.escalates_to.code if t.escalates_to else "",
                t.is_on_duty,
            )
            for t in Team.objects.select_related("lead", "escalates_to").order_by("code")
        ],
        "memberships": list(
            TeamMembership.objects.order_by("team__code", "user__username").values_list(
                "team__code", "user__username", "skills"
            )
        ),
        "systems": list(
            InformationSystem.objects.order_by("code").values_list(
                "code", "owner_team__code", "is_core"
            )
        ),
        "modules": list(
            SystemModule.objects.order_by("system__code", "code").values_list(
                "system__code", "code"
            )
        ),
        "tickets": list(
            Ticket.objects.order_by("external_ref").values_list(
                "external_ref",
                "number",
                "status",
                "tier",
                "team__code",
                "assignee__username",
                "requester__username",
                "priority",
                "channel",
                "title",
                "reopen_count",
            )
        ),
    }
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


# The suite seeds a smaller desk than `make run` (every status still several times): loading
# 300 tickets inside one test transaction takes about a minute. The full mix is checked on the
# plan (test_the_default_plan_is_300_tickets_over_every_status).
TEST_TICKETS = 60


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back at the end; each test's own
    `db` transaction nests in it, so tests still cannot see each other's changes."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        # Reactions (routing, SLA) never run inside this transaction, so no classifier either.
        call_command(
            "seed_demo",
            tickets=TEST_TICKETS,
            skip_classifier=True,
            history_days=0,
            stdout=out,
            stderr=out,
        )
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db):
    return seeded_once


def test_seed_demo_twice_gives_the_same_data(seeded):
    total = Ticket.objects.count()
    assert f"{total} created, 0 already there" in seeded
    counts, digest = model_counts(), key_fields_digest()
    events = TicketEvent.objects.count()
    out = io.StringIO()
    call_command(
        "seed_demo", tickets=TEST_TICKETS, skip_classifier=True, history_days=0, stdout=out
    )
    assert f"0 created, {total} already there" in out.getvalue()
    assert model_counts() == counts
    assert key_fields_digest() == digest
    assert TicketEvent.objects.count() == events


def test_the_organisation_and_the_teams(seeded):
    group = OrgUnit.objects.get(code="huaxin-group")
    assert group.is_root() and group.kind == "group"
    assert sorted(c.code for c in group.get_children()) == [
        "group-finance",
        "huaxin-asset",
        "huaxin-securities",
    ]
    tiers = sorted(Team.objects.values_list("tier", flat=True))
    assert tiers == ["back", "back", "back", "front", "middle", "middle"]
    front = Team.objects.get(tier=Tier.FRONT)
    roles = set(front.members.values_list("groups__name", flat=True))
    assert roles == {Role.FRONT_TIER1, Role.FRONT_TIER2}
    # The escalation chain runs front → middle → back, and every team has a lead.
    assert front.escalates_to.tier == Tier.MIDDLE
    assert front.escalates_to.escalates_to.tier == Tier.BACK
    assert not Team.objects.filter(lead__isnull=True).exists()
    assert Team.objects.filter(tier=Tier.MIDDLE, is_on_duty=True).count() == 1
    for team in Team.objects.filter(tier=Tier.BACK):
        assert team.owned_systems.count() >= 2, team.code
        assert team.members.exists()
    assert InformationSystem.objects.filter(is_core=True, code="trading").exists()
    assert not InformationSystem.objects.filter(modules__isnull=True).exists()


def test_the_people(seeded):
    requesters = User.objects.filter(groups__name=Role.REQUESTER)
    assert requesters.count() == 20
    units = set(requesters.values_list("unit__code", flat=True))
    assert units == {"huaxin-securities", "huaxin-asset", "group-finance"}
    manager = User.objects.get(username="manager")
    assert list(manager.managed_units.values_list("code", flat=True)) == ["huaxin-group"]
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    for role in Role.values:
        assert User.objects.filter(groups__name=role).exists(), role


@pytest.mark.parametrize(("role", "username", "lands"), ROLE_LOGINS)
def test_every_role_has_a_demo_user_who_can_sign_in(client, seeded, role, username, lands):
    user = User.objects.get(username=username)
    assert user.has_role(role)
    assert client.login(username=username, password=DEMO_PASSWORD)
    if "/admin/" in lands:
        assert client.get("/admin/").status_code == 200


def test_tickets_cover_every_status_through_the_services(seeded):
    by_status = dict(
        Ticket.objects.values_list("status").annotate(n=Count("id")).order_by("status")
    )
    assert set(by_status) == set(Status.values)
    assert by_status == dict(Counter(plan.target for plan in demo_plans(TEST_TICKETS)))
    # Every ticket was opened by ticket_create (its log starts with the creation entry).
    created = TicketEvent.objects.filter(kind=EventKind.CREATED).values("ticket").distinct()
    assert created.count() == Ticket.objects.count()
    tickets = Ticket.objects.all()
    assert len(set(tickets.values_list("channel", flat=True))) >= 6
    assert len(set(tickets.values_list("requester", flat=True))) >= 15
    assert not tickets.filter(status=Status.PENDING_VERIFICATION).exclude(tier=Tier.BACK)
    assert tickets.filter(reopen_count__gt=0).exists()
    assert tickets.filter(title__regex=r"[\u4e00-\u9fff]").exists()
    assert tickets.exclude(title__regex=r"[\u4e00-\u9fff]").exists()


def demo_plans(count: int):
    people = {u.username: u for u in User.objects.all()}
    teams = {t.code: t for t in Team.objects.all()}
    return _plans(_Desk(people, teams), count)


def test_the_default_plan_is_300_tickets_over_every_status(seeded):
    plans = demo_plans(300)
    assert Counter(plan.target for plan in plans) == dict(STATUS_MIX)
    assert len(plans) == len({plan.ref for plan in plans}) == 300
    # Deterministic: the same plan on every run and every machine.
    again = demo_plans(300)
    assert [(p.ref, p.target, p.requester.username, p.channel) for p in plans] == [
        (p.ref, p.target, p.requester.username, p.channel) for p in again
    ]


def test_demo_logins_prints_the_urls_and_one_login_per_role(seeded):
    out = io.StringIO()
    call_command("demo_logins", url="http://127.0.0.1:8000/", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8000/admin/" in text
    assert "http://127.0.0.1:8000/api/docs/" in text
    for _, username, _ in ROLE_LOGINS:
        assert f"| {username} " in text
    assert text.count(DEMO_PASSWORD) == len(ROLE_LOGINS)
