"""factory_boy factories for every app's models (one module: the apps share people and teams)."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from accounts.choices import Role, Tier
from accounts.models import OrgUnit, Team, TeamMembership, User
from catalog.models import InformationSystem, RequestType


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
