"""Users, organisation units and support teams."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from servicedesk.models import LocalizedNameMixin

from .choices import AssignmentStrategy, Role, Tier, UnitKind
from .roles import AGENT_ROLES, CAPABILITIES


class OrgUnit(MP_Node, LocalizedNameMixin):
    """A unit of the organisation (group company, subsidiary, department), as a tree.

    The materialised path makes "this unit and everything below it" one indexed prefix query,
    which is how a manager scoped to a unit sees its tickets.
    """

    code = models.SlugField(_("code"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)

    node_order_by = ["code"]

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")


class User(AbstractUser):
    """Anyone who signs in: requesters, agents, inspectors, managers and administrators.

    A role is membership of the group of the same name (see `accounts.roles`).
    """

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_away = models.BooleanField(
        _("away"),
        default=False,
        help_text=_("Away agents are skipped by automatic assignment."),
    )
    managed_units = models.ManyToManyField(
        OrgUnit,
        verbose_name=_("managed units"),
        blank=True,
        related_name="managers",
        help_text=_("A manager sees the tickets of these units and the units below them."),
    )
    # Preferences (profile page): e-mails and notifications are rendered in this language, and
    # times are shown in this zone; empty means the desk's default.
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = list(CAPABILITIES.items())

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def role_names(self) -> set[str]:
        """The names of this user's role groups, cached on the instance for one request."""
        if not hasattr(self, "_role_names"):
            self._role_names = set(self.groups.values_list("name", flat=True))
        return self._role_names

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.role_names

    @property
    def is_agent(self) -> bool:
        return any(self.has_role(role) for role in AGENT_ROLES)

    def preferred_language(self) -> str:
        return self.language or settings.LANGUAGE_CODE

    def preferred_time_zone(self) -> str:
        return self.time_zone or settings.TIME_ZONE


class Team(LocalizedNameMixin):
    """A support team at one tier: front office, a middle-office expert group, a back-office unit.

    `escalates_to` is the next team in the functional escalation chain (tier 1 front office →
    middle office → back office / R&D); `is_on_duty` marks the middle-office team that takes P1
    monitoring faults at once.
    """

    code = models.SlugField(_("code"), max_length=60, unique=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, db_index=True)
    lead = models.ForeignKey(
        User,
        verbose_name=_("team lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    escalates_to = models.ForeignKey(
        "self",
        verbose_name=_("escalates to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalated_from",
    )
    assignment_strategy = models.CharField(
        _("assignment"),
        max_length=20,
        choices=AssignmentStrategy.choices,
        default=AssignmentStrategy.ROUND_ROBIN,
    )
    is_on_duty = models.BooleanField(_("on duty"), default=False)
    email = models.EmailField(_("team e-mail"), blank=True)
    members = models.ManyToManyField(
        User, through="TeamMembership", related_name="teams", verbose_name=_("members")
    )
    served_units = models.ManyToManyField(
        OrgUnit,
        verbose_name=_("served units"),
        blank=True,
        related_name="serving_teams",
        help_text=_(
            "The units whose requesters a front-office team answers: its agents may read (not "
            "change) any ticket of these units and those below, to answer a caller. Empty: all."
        ),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["tier", "code"]


class TeamMembership(models.Model):
    """A person in a team, with the skills that skill-based assignment matches on."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    skills = ArrayField(
        models.CharField(max_length=60), verbose_name=_("skills"), default=list, blank=True
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.team}"
