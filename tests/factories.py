"""factory_boy factories for every app's models (one module: the apps share people and teams),
and `TicketFactory`, which makes tickets through the services."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.choices import Role, Tier
from accounts.models import OrgUnit, Team, TeamMembership, User
from catalog.models import InformationSystem, RequestType
from tickets import services
from tickets.choices import PendingReason, Status
from tickets.models import Comment, Ticket

# What the ticket factory writes when a test does not say.
TITLE = "VPN down"
RESOLUTION = "Reinstalled the VPN client."
BACK_OFFICE_FIX = "Restarted the matching engine."


def unit_root(code: str = "group", name: str = "Group") -> OrgUnit:
    existing = OrgUnit.objects.filter(code=code).first()
    return existing or OrgUnit.add_root(code=code, name=name, kind="group")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"User {n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-Secret-123")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=str(role)))


def requester(**kwargs) -> User:
    return UserFactory(roles=[Role.REQUESTER], **kwargs)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    code = factory.Sequence(lambda n: f"team-{n}")
    name = factory.Sequence(lambda n: f"Team {n}")
    tier = Tier.FRONT


def agent(team: Team, role: str = Role.FRONT_TIER1, skills=(), **kwargs) -> User:
    user = UserFactory(roles=[role], **kwargs)
    TeamMembership.objects.create(team=team, user=user, skills=list(skills))
    return user


class SystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InformationSystem

    code = factory.Sequence(lambda n: f"sys-{n}")
    name = factory.Sequence(lambda n: f"System {n}")
    owner_team = factory.SubFactory(TeamFactory, tier=Tier.BACK)


def request_type(code: str) -> RequestType:
    return RequestType.objects.get(code=code)


def client_for(user: User) -> APIClient:
    """An API client signed in as `user`."""
    client = APIClient()
    client.force_authenticate(user)
    return client


class TicketFactory:
    """Tickets at a chosen point of their lifecycle, made by the services as the desk makes them.

    Each state is reached from the one before it (new → queued → in progress → ...), by the
    people of the `desk` fixture: the requester opens, the team's owner takes and resolves, the
    requester confirms. Reactions (routing, SLA timers) run on commit, which the `db` fixture
    never reaches: a ticket stays exactly where the factory put it.

        tickets = TicketFactory(desk)
        tickets.in_progress(desk.back, title="Batch failed")   # the engineer works on it
        tickets.closed(requester=desk.other_requester)
    """

    def __init__(self, desk) -> None:
        self.desk = desk

    def owner_of(self, team: Team) -> User:
        """The agent of the `desk` who works a team's tickets."""
        desk = self.desk
        return {
            desk.front.pk: desk.tier1,
            desk.middle.pk: desk.expert,
            desk.back.pk: desk.engineer,
        }[team.pk]

    def new(self, *, requester: User | None = None, title: str = TITLE, **fields) -> Ticket:
        """Opened by the requester (or `requester`), waiting in triage; `fields` go to
        `ticket_create` (description, system, channel, impact, ...)."""
        requester = requester or self.desk.requester
        ticket, created = services.ticket_create(
            requester=requester, created_by=requester, title=title, **fields
        )
        assert created, "an external reference of an earlier ticket"
        return ticket

    def queued(self, team: Team | None = None, **fields) -> Ticket:
        """Routed to `team` (the front office), nobody working on it yet."""
        team = team or self.desk.front
        ticket = self.new(**fields)
        return services.ticket_route(ticket_id=ticket.pk, actor=None, tier=team.tier, team=team)

    def in_progress(
        self, team: Team | None = None, *, agent: User | None = None, **fields
    ) -> Ticket:
        """Taken by `agent` (the team's owner)."""
        team = team or self.desk.front
        ticket = self.queued(team, **fields)
        return services.ticket_take(ticket_id=ticket.pk, actor=agent or self.owner_of(team))

    def pending(
        self,
        team: Team | None = None,
        *,
        reason: str = PendingReason.REQUESTER,
        note: str = "",
        **fields,
    ) -> Ticket:
        """Waiting on someone outside the desk (the requester: the SLA clocks pause)."""
        ticket = self.in_progress(team, **fields)
        return services.ticket_suspend(
            ticket_id=ticket.pk, actor=ticket.assignee, reason=reason, note=note
        )

    def resolved(
        self, team: Team | None = None, *, resolution: str = RESOLUTION, **fields
    ) -> Ticket:
        """Resolved by its owner, waiting for the requester's confirmation. (A back-office
        ticket goes to the middle office's verification instead: `pending_verification`.)"""
        ticket = self.in_progress(team, **fields)
        return services.ticket_resolve(
            ticket_id=ticket.pk, actor=ticket.assignee, resolution=resolution
        )

    def pending_verification(self, *, resolution: str = BACK_OFFICE_FIX, **fields) -> Ticket:
        """Fixed by the back office's engineer, waiting for a middle-office expert's check."""
        return self.resolved(self.desk.back, resolution=resolution, **fields)

    def closed(self, team: Team | None = None, **fields) -> Ticket:
        """Resolved, then confirmed by its requester."""
        ticket = self.resolved(team, **fields)
        return services.ticket_confirm(ticket_id=ticket.pk, actor=ticket.requester)

    def cancelled(self, **fields) -> Ticket:
        """Withdrawn by its requester while new."""
        ticket = self.new(**fields)
        return services.ticket_cancel(ticket_id=ticket.pk, actor=ticket.requester)

    def in_status(self, status: str, **fields) -> Ticket:
        """A front-office ticket in `status` (built through the services as above)."""
        build = {
            Status.NEW: self.new,
            Status.QUEUED: self.queued,
            Status.IN_PROGRESS: self.in_progress,
            Status.PENDING: self.pending,
            Status.PENDING_VERIFICATION: self.pending_verification,
            Status.RESOLVED: self.resolved,
            Status.CLOSED: self.closed,
            Status.CANCELLED: self.cancelled,
        }[status]
        return build(**fields)

    def comment(
        self, ticket: Ticket, body: str, *, author: User | None = None, internal: bool = False
    ) -> Comment:
        """A reply (or an internal note) by `author`: the ticket's requester unless named."""
        return services.comment_add(
            ticket_id=ticket.pk,
            actor=author or ticket.requester,
            body=body,
            is_internal=internal,
        )
