"""The ticket, its operation log, comments, attachments and integration idempotency."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from accounts.choices import Tier
from accounts.models import OrgUnit, Team
from catalog.models import Category, InformationSystem, RequestType, SystemModule
from servicedesk.models import AppendOnlyLogEntry, SafeAttachment

from . import permissions as perms
from .choices import (
    ActorKind,
    Channel,
    Impact,
    PendingReason,
    Priority,
    Status,
    Urgency,
)

TITLE_MAX_LENGTH = 200
TEXT_MAX_LENGTH = 50_000
ACTIVE_STATUSES = [Status.NEW, Status.QUEUED, Status.IN_PROGRESS, Status.PENDING]


def reopen_window_open(ticket: Ticket) -> bool:
    if ticket.closed_at is None:
        return False
    days = settings.SERVICEDESK["REOPEN_WINDOW_DAYS"]
    return timezone.now() - ticket.closed_at <= timedelta(days=days)


def handled_in_back_office(ticket: Ticket) -> bool:
    return ticket.tier == Tier.BACK


def handled_before_back_office(ticket: Ticket) -> bool:
    return ticket.tier != Tier.BACK


class Ticket(ConcurrentTransitionMixin, models.Model):
    """A support request from any channel, from intake to closure.

    `status` is a protected state machine: only the transition methods below change it, and
    `ConcurrentTransitionMixin` makes a save fail when another transaction moved the ticket
    first. Transition methods only set fields; `tickets.services` calls them, saves, writes the
    operation log and schedules side effects.
    """

    # Unique through Meta.constraints: `unique=True` would add a second index for LIKE
    # (varchar_pattern_ops) that no lookup uses, written on every move of a ticket.
    number = models.CharField(_("number"), max_length=32, editable=False)
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    description = models.TextField(_("description"), blank=True)

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="requested_tickets",
        db_index=False,  # ticket_requester (requester, -id) serves it
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="logged_tickets",
    )
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    # The unit's materialised path, copied at intake so a manager's "my units" scope is one
    # indexed prefix match instead of a join.
    unit_path = models.CharField(max_length=255, blank=True, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)

    request_type = models.ForeignKey(
        RequestType,
        verbose_name=_("request type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("affected system"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    module = models.ForeignKey(
        SystemModule,
        verbose_name=_("module"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, default=Impact.MINOR
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Urgency.choices, default=Urgency.MEDIUM
    )
    priority = models.CharField(
        _("priority"), max_length=2, choices=Priority.choices, default=Priority.P3
    )

    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, blank=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # ticket_team_status (team, status, -id) serves it
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
        db_index=False,  # ticket_assignee_status (assignee, status, -id) serves it
    )
    status = FSMField(
        _("status"), max_length=24, choices=Status.choices, default=Status.NEW, protected=True
    )
    pending_reason = models.CharField(
        _("pending reason"), max_length=16, choices=PendingReason.choices, blank=True
    )
    needs_triage = models.BooleanField(
        _("needs manual triage"),
        default=False,
        help_text=_("Automatic classification was not confident enough (人工兜底)."),
    )
    classification_confidence = models.FloatField(
        _("classification confidence"), null=True, blank=True
    )
    resolution = models.TextField(_("resolution"), blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)

    incident = models.ForeignKey(
        "self",
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="linked_tickets",
        help_text=_("The fault ticket this one is a symptom of; resolved together."),
        db_index=False,  # ticket_incident: the few linked tickets only
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_tickets",
        db_index=False,  # ticket_merged_into: the few merged tickets only
    )
    # Where an integration's copy of this ticket lives: an alert fingerprint, an e-mail
    # Message-ID, an API client's Idempotency-Key. Unique per source, so a redelivery finds the
    # ticket instead of opening another.
    external_source = models.CharField(_("external source"), max_length=64, blank=True)
    external_ref = models.CharField(_("external reference"), max_length=255, blank=True)
    # While the intake reactions (classification, routing, SLA start) wait for a worker: from
    # when a drain may claim the ticket; null once they ran (tickets/intake.py). A row, not only
    # a queued message, so a lost message or a worker that died mid-batch loses no ticket.
    intake_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="ticket_number_unique"),
            models.UniqueConstraint(
                fields=["external_source", "external_ref"],
                condition=~Q(external_ref=""),
                name="ticket_external_ref_unique",
            ),
        ]
        # Queues list newest first (-id) within a filter; each hot filter has its own index.
        # Moving a ticket (team, status, assignee) writes an entry into every index of the
        # table, so there is no index a composite one already serves (the foreign keys team,
        # assignee and requester lead one each), the rarely set links are partial, and the
        # title has no trigram index (every search of tickets, the incident's link search
        # too, reads `TicketSearchDocument`): 21 indexes, not 26, for the SLA sweep's 10,000
        # moves (issues #10, #11; docs/benchmarks.md).
        indexes = [
            models.Index(fields=["team", "status", "-id"], name="ticket_team_status"),
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_status"),
            models.Index(fields=["requester", "-id"], name="ticket_requester"),
            models.Index(fields=["status", "priority", "-id"], name="ticket_status_priority"),
            models.Index(fields=["tier", "status", "-id"], name="ticket_tier_status"),
            models.Index(
                fields=["unit_path", "-id"],
                name="ticket_unit_path",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["-id"], condition=Q(needs_triage=True), name="ticket_triage"),
            models.Index(fields=["status", "resolved_at"], name="ticket_status_resolved"),
            # Return-visit and inspection sampling read the tickets closed in a week or a month
            # (7.1 s → 2.7 s for a month at 1,000,000 tickets: a range scan, not six full scans).
            models.Index(
                fields=["closed_at"], condition=Q(status="closed"), name="ticket_closed_at"
            ),
            models.Index(
                fields=["incident"], condition=Q(incident__isnull=False), name="ticket_incident"
            ),
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="ticket_merged_into",
            ),
            models.Index(
                fields=["intake_due_at", "id"],
                condition=Q(intake_due_at__isnull=False),
                name="ticket_intake_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)

    # --- the lifecycle (PRODUCT.md §3) ------------------------------------------------------
    # Each method only sets fields. Guards on input (a note is required, ...) live in services.

    @transition(
        field=status, source=Status.NEW, target=Status.QUEUED, permission=perms.can_dispatch
    )
    def route(self, *, tier: str, team: Team) -> None:
        """Classified and routed to a team at a tier; nobody has it yet."""
        self.tier, self.team, self.needs_triage = tier, team, False

    @transition(
        field=status, source=Status.QUEUED, target=Status.IN_PROGRESS, permission=perms.can_work
    )
    def start_work(self, *, assignee) -> None:
        """An agent takes the ticket, or is given it."""
        self.assignee = assignee

    @transition(
        field=status,
        source=[Status.QUEUED, Status.IN_PROGRESS],
        target=Status.QUEUED,
        permission=perms.can_dispatch,
    )
    def dispatch(self, *, tier: str, team: Team) -> None:
        """Hand over to another team (front → middle → back office), unassigned."""
        self.tier, self.team, self.assignee = tier, team, None

    @transition(
        field=status,
        source=[Status.QUEUED, Status.IN_PROGRESS, Status.PENDING],
        target=Status.QUEUED,
        permission=perms.can_dispatch,
    )
    def escalate(self, *, tier: str, team: Team) -> None:
        """Functional escalation to the next team of the chain."""
        self.tier, self.team, self.assignee = tier, team, None
        self.pending_reason = ""

    @transition(
        field=status, source=Status.IN_PROGRESS, target=Status.PENDING, permission=perms.can_work
    )
    def suspend(self, *, reason: str) -> None:
        """Waiting on someone outside the desk (挂起)."""
        self.pending_reason = reason

    @transition(
        field=status,
        source=Status.PENDING,
        target=Status.IN_PROGRESS,
        permission=perms.can_answer_for_requester,
    )
    def resume(self) -> None:
        self.pending_reason = ""

    @transition(
        field=status,
        source=Status.IN_PROGRESS,
        target=Status.PENDING_VERIFICATION,
        permission=perms.can_resolve,
        conditions=[handled_in_back_office],
    )
    def submit_fix(self, *, resolution: str) -> None:
        """The back office says it is fixed; the middle office must verify before the
        requester is told."""
        self.resolution = resolution

    @transition(
        field=status,
        source=Status.IN_PROGRESS,
        target=Status.RESOLVED,
        permission=perms.can_resolve,
        conditions=[handled_before_back_office],
    )
    def resolve(self, *, resolution: str) -> None:
        self.resolution = resolution
        self.resolved_at = timezone.now()

    @transition(
        field=status,
        source=Status.PENDING_VERIFICATION,
        target=Status.RESOLVED,
        permission=perms.can_verify,
    )
    def verify_pass(self) -> None:
        self.resolved_at = timezone.now()

    @transition(
        field=status,
        source=Status.PENDING_VERIFICATION,
        target=Status.IN_PROGRESS,
        permission=perms.can_verify,
    )
    def verify_fail(self) -> None:
        """Back to the back-office engineer who submitted the fix, with the reason."""

    @transition(
        field=status,
        source=Status.RESOLVED,
        target=Status.CLOSED,
        permission=perms.can_answer_for_requester,
    )
    def confirm(self) -> None:
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=Status.RESOLVED,
        target=Status.IN_PROGRESS,
        permission=perms.can_answer_for_requester,
    )
    def reject(self) -> None:
        """The requester says it is not fixed: reopened to the same owner."""
        self.reopen_count += 1
        self.resolved_at = None

    @transition(
        field=status, source=Status.RESOLVED, target=Status.CLOSED, permission=perms.system_only
    )
    def auto_close(self) -> None:
        """No answer from the requester within N days."""
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=Status.CLOSED,
        target=RETURN_VALUE(Status.IN_PROGRESS, Status.QUEUED),
        permission=perms.can_answer_for_requester,
        conditions=[reopen_window_open],
    )
    def reopen(self) -> str:
        """Reopen within the window: back to the last owner, or to the team's queue."""
        self.reopen_count += 1
        self.resolved_at = self.closed_at = None
        return Status.IN_PROGRESS if self.assignee_id else Status.QUEUED

    @transition(
        field=status, source=ACTIVE_STATUSES, target=Status.CANCELLED, permission=perms.can_cancel
    )
    def cancel(self) -> None:
        """Withdrawn by the requester or rejected as invalid by an agent."""
        self.closed_at = timezone.now()

    @transition(
        field=status, source=ACTIVE_STATUSES, target=Status.CANCELLED, permission=perms.can_merge
    )
    def merge(self, *, into: Ticket) -> None:
        """A duplicate: cancelled, pointing at the ticket that goes on."""
        self.merged_into = into
        self.closed_at = timezone.now()

    @transition(
        field=status,
        source=[*ACTIVE_STATUSES, Status.PENDING_VERIFICATION],
        target=Status.RESOLVED,
        permission=perms.system_only,
    )
    def resolve_with_incident(self, *, resolution: str) -> None:
        """The fault this ticket is linked to was fixed; linked tickets resolve together."""
        self.resolution = resolution
        self.resolved_at = timezone.now()


class TicketEvent(AppendOnlyLogEntry):
    """One entry of a ticket's operation log (操作日志): who, when, what, old and new value.

    Append-only: services write it in the same transaction as the change, and a database
    trigger refuses UPDATE and DELETE. `is_public` entries form the requester's timeline.
    """

    # No index of its own: ticketevent_ticket (ticket, id) serves the foreign key.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    actor_kind = models.CharField(_("actor kind"), max_length=12, choices=ActorKind.choices)
    field = models.CharField(_("field"), max_length=40, blank=True)
    old_value = models.JSONField(_("old value"), null=True, blank=True)
    new_value = models.JSONField(_("new value"), null=True, blank=True)
    is_public = models.BooleanField(_("public"), default=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["id"]
        indexes = [models.Index(fields=["ticket", "id"], name="ticketevent_ticket")]


class Comment(models.Model):
    """A public reply (seen by the requester) or an internal note (never seen by them)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("text"))
    is_internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["id"]
        indexes = [models.Index(fields=["ticket", "id"], name="comment_ticket")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.body[:40]}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Stored under a random name: the original (sanitised) name is only metadata.
    return f"attachments/{timezone.now():%Y/%m}/{instance.storage_key}"


class Attachment(SafeAttachment):
    """A file on a ticket, stored outside the static root and served by a permission check."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    is_internal = models.BooleanField(_("internal"), default=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]


class ReactionRetry(models.Model):
    """A reaction to a ticket event that raised: the dead-letter list of the reaction chain.

    The reactions of one event run in the order of `tickets.reactions.WIRING`; when one raises,
    the ones before it have completed and this row remembers where to resume (`reaction`).
    It is retried with backoff until it succeeds (state `done`, kept for the record) or, after
    the configured number of attempts, parked where an administrator sees it (admin, `/healthz`)
    and can retry it. A new ticket's row also keeps the ticket in the intake queue, so the
    ticket is released only when all its intake reactions have run.
    """

    class State(models.TextChoices):
        RETRYING = "retrying", _("Retrying")
        PARKED = "parked", _("Parked")
        DONE = "done", _("Done")

    event = models.CharField(_("event"), max_length=40)
    reaction = models.CharField(_("reaction that failed"), max_length=200)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="+", verbose_name=_("ticket")
    )
    payload = models.JSONField(_("payload"), default=dict)
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("failed reaction")
        verbose_name_plural = _("failed reactions")
        ordering = ["-id"]
        indexes = [
            # The retry job's scan: only rows still retrying, by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="retrying"),
                name="tickets_reaction_retry_due",
            ),
            models.Index(
                fields=["ticket", "event"],
                condition=~Q(state="done"),
                name="tickets_reaction_retry_open",
            ),
            models.Index(
                fields=["state"], condition=Q(state="parked"), name="tickets_reaction_parked"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.reaction} ({self.state}, {self.attempts})"


class TicketFollower(models.Model):
    """Someone who follows a ticket (a watcher): told when it changes, and able to read it.

    Agents who log, take, route, dispatch, escalate or work a ticket follow it by default
    (the services add them) and may unfollow; anyone may follow a ticket they can see.
    """

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="followers", verbose_name=_("ticket")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="followed",
        verbose_name=_("follower"),
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="ticket_follower_unique")
        ]
        # The "Following" queue and the visibility scope read by user.
        indexes = [models.Index(fields=["user", "ticket"], name="ticket_follower_by_user")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.ticket_id}"


class TicketSearchDocument(models.Model):
    """A ticket's words for full-text search (issue #19), kept by `tickets.search`.

    `public` holds the number, title, description and public replies (what a requester may
    read); `staff` adds the internal notes, for the desk's side. Chinese runs are segmented
    with jieba into the `simple` configuration, other text goes through `english` (stemmed).
    A table of its own, not columns on Ticket: the ticket rows stay narrow for the queues, and
    the documents can be rebuilt without touching tickets.
    """

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    public = SearchVectorField()
    staff = SearchVectorField()

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        indexes = [
            GinIndex(fields=["public"], name="ticket_search_public"),
            GinIndex(fields=["staff"], name="ticket_search_staff"),
        ]

    def __str__(self) -> str:
        return str(self.ticket_id)
