"""Knowledge articles, their versions and log, their use on tickets, and the problem library."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from catalog.models import Category, InformationSystem, RequestType, SystemModule
from servicedesk.models import AppendOnlyLogEntry, LocalizedNameMixin, SafeAttachment

from .choices import (
    ArticleStatus,
    Audience,
    Language,
    LinkKind,
    ProblemStatus,
    ScriptLanguage,
)

TITLE_MAX_LENGTH = 200
# One section may hold a long runbook, but not an unbounded blob (a 1 MB paste is refused).
SECTION_MAX_LENGTH = 100_000


def can_write(article: Article, user) -> bool:
    """Agents write drafts; the owner, the author or a knowledge reviewer may change one."""
    if user is None:
        return False
    if user.has_perm("accounts.manage_knowledge"):
        return True
    return user.has_perm("accounts.handle_tickets") and user.pk in (
        article.owner_id,
        article.created_by_id,
    )


def can_review(article: Article, user) -> bool:
    """Reviewers hold `manage_knowledge`; nobody approves their own text (four eyes)."""
    return (
        user is not None
        and user.has_perm("accounts.manage_knowledge")
        and user.pk != article.submitted_by_id
    )


def can_manage(article: Article, user) -> bool:
    return user is not None and user.has_perm("accounts.manage_knowledge")


def system_only(article: Article, user) -> bool:
    return user is None


def can_retire(article: Article, user) -> bool:
    return user is None or can_manage(article, user)


class Scenario(LocalizedNameMixin):
    """A support scenario (场景): new employee onboarding, remote work, month-end close, ..."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")
        ordering = ["code"]


class Tag(LocalizedNameMixin):
    """A free label (标签) an article is found by; configurable by knowledge managers."""

    code = models.SlugField(_("code"), max_length=60, unique=True, allow_unicode=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["code"]


class Article(ConcurrentTransitionMixin, models.Model):
    """A knowledge article mapping a problem to its solution (知识条目).

    The sections are Markdown, rendered through a sanitiser; the fix script is shown, never run.
    `status` is a protected state machine (draft → in review → published → retired, and back
    to draft for a new revision); `ConcurrentTransitionMixin` makes the second of two reviewers
    acting at once fail. `search_vector` is the jieba-segmented `simple` tsvector that
    `knowledge.services` maintains whenever it saves the article.
    """

    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    symptom = models.TextField(_("symptom"), blank=True)
    cause = models.TextField(_("cause"), blank=True)
    steps = models.TextField(_("troubleshooting steps"), blank=True)
    fix_script = models.TextField(_("fix script"), blank=True)
    fix_language = models.CharField(
        _("script language"), max_length=16, choices=ScriptLanguage.choices, blank=True
    )
    prevention = models.TextField(_("prevention"), blank=True)

    scenario = models.ForeignKey(
        Scenario, verbose_name=_("scenario"), null=True, blank=True, on_delete=models.SET_NULL
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="articles")
    system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("information system"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    module = models.ForeignKey(
        SystemModule,
        verbose_name=_("module"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("problem category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    request_type = models.ForeignKey(
        RequestType,
        verbose_name=_("request type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    translation_of = models.ForeignKey(
        "self",
        verbose_name=_("translation of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="translations",
    )
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.INTERNAL
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_articles",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = FSMField(
        _("status"),
        max_length=12,
        choices=ArticleStatus.choices,
        default=ArticleStatus.DRAFT,
        protected=True,
    )
    version = models.PositiveIntegerField(_("published version"), default=0)
    review_comment = models.TextField(_("reviewer's comment"), blank=True)
    review_due_on = models.DateField(_("next review"), null=True, blank=True)
    # The review date a "review due" notice was sent for: the marker that makes the review
    # job idempotent (a second run, or two beats at once, find nothing left to do).
    review_notified_for = models.DateField(null=True, blank=True, editable=False)
    last_reviewed_at = models.DateTimeField(_("last reviewed"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    use_count = models.PositiveIntegerField(_("uses on tickets"), default=0)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    helpful_count = models.PositiveIntegerField(_("helpful votes"), default=0)
    unhelpful_count = models.PositiveIntegerField(_("not helpful votes"), default=0)
    deflection_count = models.PositiveIntegerField(_("requests avoided"), default=0)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    source_ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("archived from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # NULL (not ""): only imported articles carry one, and only those must be unique.
    external_id = models.CharField(  # noqa: DJ001
        _("external id"), max_length=100, null=True, blank=True
    )
    search_vector = SearchVectorField(null=True, editable=False)
    # The title and symptom alone: small enough to stay inline in the row, so the search can
    # prefer articles whose head matches without reading every long vector.
    head_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False),
                name="article_external_id_unique",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="article_search"),
            GinIndex(fields=["head_vector"], name="article_head_search"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="article_title_trgm"),
            models.Index(fields=["status", "-id"], name="article_status"),
            models.Index(
                fields=["review_due_on"],
                condition=Q(status="published"),
                name="article_review_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # --- the lifecycle (PRODUCT.md §7); transitions only set fields -------------------------

    @transition(
        field=status,
        source=ArticleStatus.DRAFT,
        target=ArticleStatus.IN_REVIEW,
        permission=can_write,
    )
    def submit(self, *, by) -> None:
        self.submitted_by = by
        self.review_comment = ""

    @transition(
        field=status,
        source=ArticleStatus.IN_REVIEW,
        target=ArticleStatus.PUBLISHED,
        permission=can_review,
    )
    def approve(self, *, review_due_on) -> None:
        now = timezone.now()
        self.version += 1
        self.published_at = self.last_reviewed_at = now
        self.review_due_on = review_due_on
        self.review_notified_for = None
        self.retired_at = None

    @transition(
        field=status,
        source=ArticleStatus.IN_REVIEW,
        target=ArticleStatus.DRAFT,
        permission=can_review,
    )
    def return_to_author(self, *, comment: str) -> None:
        self.review_comment = comment

    @transition(
        field=status,
        source=[ArticleStatus.PUBLISHED, ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW],
        target=ArticleStatus.RETIRED,
        permission=can_retire,
    )
    def retire(self) -> None:
        self.retired_at = timezone.now()

    @transition(
        field=status,
        source=[ArticleStatus.PUBLISHED, ArticleStatus.RETIRED],
        target=ArticleStatus.DRAFT,
        permission=can_write,
    )
    def revise(self) -> None:
        """A new revision: back to draft; the published versions stay in `versions`."""

    @property
    def helpfulness(self) -> float | None:
        votes = self.helpful_count + self.unhelpful_count
        return None if not votes else self.helpful_count / votes


class ArticleVersion(models.Model):
    """One published revision of an article, kept for ever (to compare and to audit)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    content = models.JSONField(_("content"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(_("published"), default=timezone.now)

    class Meta:
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleEvent(AppendOnlyLogEntry):
    """One entry of an article's log: who did what, when. Append-only (a trigger refuses
    UPDATE and DELETE), written by the services in the transaction of the change."""

    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="events")

    class Meta:
        verbose_name = _("article event")
        verbose_name_plural = _("article events")
        ordering = ["id"]
        indexes = [models.Index(fields=["article", "id"], name="articleevent_article")]


class ArticleTicketLink(models.Model):
    """An article used on (or archived from) a ticket; the use is counted on the article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="knowledge_links"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=LinkKind.choices)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("article use on a ticket")
        verbose_name_plural = _("article uses on tickets")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "ticket", "kind"], name="article_ticket_link_unique"
            )
        ]
        indexes = [models.Index(fields=["ticket"], name="articlelink_ticket")]

    def __str__(self) -> str:
        return f"{self.article_id} ↔ {self.ticket_id} ({self.kind})"


class ArticleVote(models.Model):
    """A person's helpful / not helpful vote on an article, with an optional note to the owner.
    One per person and article; voting again changes the vote."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField(_("helpful"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["article", "voter"], name="article_vote_unique")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} {'+' if self.helpful else '-'}"


class Deflection(models.Model):
    """A requester whose problem an article solved before any ticket was opened (自助解决)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    query = models.CharField(_("what they typed"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("deflection")
        verbose_name_plural = _("deflections")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.article_id} {self.created_at:%Y-%m-%d}"


class Problem(ConcurrentTransitionMixin, models.Model):
    """A known underlying defect (缺陷问题库 / known error) grouping the tickets it causes
    until it is fixed at the root. The status is a protected state machine."""

    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    root_cause = models.TextField(_("root cause"), blank=True)
    workaround = models.TextField(_("workaround"), blank=True)
    workaround_article = models.ForeignKey(
        Article,
        verbose_name=_("workaround article"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="problems",
    )
    system = models.ForeignKey(
        InformationSystem,
        verbose_name=_("affected system"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    module = models.ForeignKey(
        SystemModule,
        verbose_name=_("module"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_problems",
    )
    status = FSMField(
        _("status"),
        max_length=16,
        choices=ProblemStatus.choices,
        default=ProblemStatus.OPEN,
        protected=True,
    )
    fix_note = models.TextField(_("fix note"), blank=True)
    ticket_count = models.PositiveIntegerField(_("linked tickets"), default=0)
    search_vector = SearchVectorField(null=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    fixed_at = models.DateTimeField(_("fixed"), null=True, blank=True)

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["-ticket_count", "-id"]
        indexes = [
            GinIndex(fields=["search_vector"], name="problem_search"),
            models.Index(fields=["status", "-ticket_count"], name="problem_status_count"),
        ]

    def __str__(self) -> str:
        return self.title

    @transition(field=status, source=ProblemStatus.OPEN, target=ProblemStatus.KNOWN_ERROR)
    def confirm_known_error(self) -> None:
        """Root cause found, workaround known (known error)."""

    @transition(
        field=status,
        source=[ProblemStatus.OPEN, ProblemStatus.KNOWN_ERROR],
        target=ProblemStatus.FIX_IN_PROGRESS,
    )
    def start_fix(self) -> None:
        pass

    @transition(
        field=status,
        source=[ProblemStatus.OPEN, ProblemStatus.KNOWN_ERROR, ProblemStatus.FIX_IN_PROGRESS],
        target=ProblemStatus.FIXED,
    )
    def mark_fixed(self, *, fix_note: str) -> None:
        self.fix_note = fix_note
        self.fixed_at = timezone.now()

    @transition(field=status, source=ProblemStatus.FIXED, target=ProblemStatus.FIX_IN_PROGRESS)
    def reopen(self) -> None:
        """The fix did not hold."""
        self.fixed_at = None

    @transition(field=status, source=ProblemStatus.FIXED, target=ProblemStatus.CLOSED)
    def close(self) -> None:
        pass

    @property
    def is_open(self) -> bool:
        return self.status not in (ProblemStatus.FIXED, ProblemStatus.CLOSED)


class ProblemTicketLink(models.Model):
    """A ticket caused by a known problem."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="problem_links"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("problem ticket")
        verbose_name_plural = _("problem tickets")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["problem", "ticket"], name="problem_ticket_unique")
        ]
        indexes = [models.Index(fields=["ticket"], name="problemlink_ticket")]

    def __str__(self) -> str:
        return f"{self.problem_id} ↔ {self.ticket_id}"


class ProblemEvent(AppendOnlyLogEntry):
    """One entry of a problem's log. Append-only, like the article's."""

    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="events")

    class Meta:
        verbose_name = _("problem event")
        verbose_name_plural = _("problem events")
        ordering = ["id"]
        indexes = [models.Index(fields=["problem", "id"], name="problemevent_problem")]


def article_attachment_path(instance: ArticleAttachment, filename: str) -> str:
    # A random name, like ticket attachments: the original (sanitised) name is metadata only.
    return f"knowledge/{timezone.now():%Y/%m}/{instance.storage_key}"


class ArticleAttachment(SafeAttachment):
    """A screenshot or file on an article, under the ticket attachments' safety rules."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=article_attachment_path, max_length=255)

    class Meta:
        verbose_name = _("article attachment")
        verbose_name_plural = _("article attachments")
        ordering = ["id"]
