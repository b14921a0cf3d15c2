"""Writes of the knowledge base's articles: lifecycle, search index, use, votes, review.

Every service checks permission and guards first, then changes, then writes the article's log,
in one transaction; notifications are stored in it and delivered after commit. The stored
search vector is rebuilt by `_index` whenever an article's text is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from accounts.models import User
from catalog.models import Category, InformationSystem, RequestType, SystemModule
from tickets.choices import Status
from tickets.models import Ticket
from tickets.validation import clean_text

from . import notify, search
from .choices import ArticleEventKind as K
from .choices import ArticleStatus, Audience, Language, LinkKind, ScriptLanguage
from .events import article_event_record
from .exceptions import ConcurrentChange, IllegalArticleTransition
from .models import (
    SECTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Article,
    ArticleTicketLink,
    ArticleVersion,
    ArticleVote,
    Deflection,
    Scenario,
    Tag,
)

SECTIONS = ("symptom", "cause", "steps", "fix_script", "prevention")
CONTENT_FIELDS = ("title", *SECTIONS, "fix_language", "language", "audience")


def knowledge_settings() -> dict[str, int]:
    return {"REVIEW_INTERVAL_DAYS": 180, "RETIRE_UNUSED_AFTER_DAYS": 365} | getattr(
        settings, "KNOWLEDGE", {}
    )


def default_review_date() -> date:
    return timezone.localdate() + timedelta(days=knowledge_settings()["REVIEW_INTERVAL_DAYS"])


@dataclass
class ArticleInput:
    """What a person may write on an article (every field optional on an update)."""

    title: str | None = None
    symptom: str | None = None
    cause: str | None = None
    steps: str | None = None
    fix_script: str | None = None
    fix_language: str | None = None
    prevention: str | None = None
    language: str | None = None
    audience: str | None = None
    scenario: Scenario | None = None
    tags: list[str] | None = None
    system: InformationSystem | None = None
    module: SystemModule | None = None
    category: Category | None = None
    request_type: RequestType | None = None
    owner: User | None = None
    review_due_on: date | None = None
    translation_of: Article | None = None
    external_id: str | None = None
    # Relation fields given explicitly as None clear the value; these name which were given.
    given: set[str] = field(default_factory=set)


def _clean_input(data: ArticleInput, *, creating: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if creating or data.title is not None:
        values["title"] = clean_text(
            data.title, field="title", max_length=TITLE_MAX_LENGTH, required=True
        )
    for name in SECTIONS:
        value = getattr(data, name)
        if value is not None:
            values[name] = clean_text(
                value, field=name, max_length=SECTION_MAX_LENGTH, required=False
            )
    for name, choices in (
        ("fix_language", ScriptLanguage),
        ("language", Language),
        ("audience", Audience),
    ):
        value = getattr(data, name)
        if value is not None:
            if value not in choices.values:
                raise ValidationError({name: [_("Not a valid choice.")]})
            values[name] = value
    for name in (
        "scenario",
        "system",
        "module",
        "category",
        "request_type",
        "owner",
        "review_due_on",
        "translation_of",
    ):
        value = getattr(data, name)
        if value is not None or name in data.given:
            values[name] = value
    if data.external_id is not None:
        values["external_id"] = (
            clean_text(data.external_id, field="external_id", max_length=100, required=False)
            or None
        )
    module, system = values.get("module"), values.get("system")
    if module is not None and system is not None and module.system_id != system.pk:
        raise ValidationError({"module": [_("The module belongs to another system.")]})
    owner = values.get("owner")
    if owner is not None and not (
        owner.has_perm("accounts.handle_tickets") or owner.has_perm("accounts.manage_knowledge")
    ):
        raise ValidationError({"owner": [_("The owner must be a member of the desk.")]})
    return values


def clean_tags(names: list[str]) -> list[Tag]:
    """Tags by name, created when new (at most 20, each at most 60 characters)."""
    cleaned: list[str] = []
    for raw in names:
        name = clean_text(str(raw), field="tags", max_length=60, required=False)
        name = " ".join(name.split()).lower()
        if name and name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > 20:
        raise ValidationError({"tags": [_("At most 20 tags.")]})
    tags = []
    for name in cleaned:
        tag = Tag.objects.filter(code=name).first() or Tag.objects.create(code=name, name=name)
        tags.append(tag)
    return tags


def search_literals(article: Article, tags: list[Tag]) -> tuple[str, str]:
    """The article's tsvector literals: the whole text (title A, symptom B, tags / scenario /
    system / category C, the rest D), and its head (title and symptom alone)."""
    labels = [t.name for t in tags] + [t.name_zh for t in tags]
    for related in (article.scenario, article.system, article.category):
        if related is not None:
            labels += [related.name, related.name_zh]
    return search.tsvector_literals(
        [
            (article.title, "A"),
            (article.symptom, "B"),
            (" ".join(filter(None, labels)), "C"),
            ("\n".join([article.cause, article.steps, article.prevention]), "D"),
        ],
        head=2,
    )


def _index(article: Article) -> None:
    """Rebuild the stored search vectors from the article's text."""
    literal, head = search_literals(article, list(article.tags.all()))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE knowledge_article SET search_vector = %s::tsvector, head_vector = %s::tsvector"
            " WHERE id = %s",
            [literal, head, article.pk],
        )


def _lock(article_id: int) -> Article:
    try:
        return Article.objects.select_for_update().get(pk=article_id)
    except Article.DoesNotExist as exc:
        raise ValidationError({"article": [_("No such article.")]}) from exc


def _save(article: Article, fields) -> None:
    try:
        article.save(update_fields=sorted({*fields, "updated_at"}))
    except ConcurrentTransition as exc:
        raise ConcurrentChange() from exc


def _transition(article: Article, actor: User | None, name: str, fields, **kwargs) -> None:
    method = getattr(article, name)
    if not can_proceed(method) or not has_transition_perm(method, actor):
        raise IllegalArticleTransition(transition=name, status=article.get_status_display())
    method(**kwargs)
    _save(article, {"status", *fields})


def _check_writer(actor: User) -> None:
    if not (
        actor.has_perm("accounts.handle_tickets") or actor.has_perm("accounts.manage_knowledge")
    ):
        raise PermissionDenied(_("Only the service desk writes knowledge articles."))


def _apply_values(article: Article, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(article, name, value)


@transaction.atomic
def article_create(
    *,
    actor: User,
    data: ArticleInput,
    source_ticket: Ticket | None = None,
    status: str = ArticleStatus.DRAFT,
) -> Article:
    """Write a new draft. Guards: desk staff only; title required; sections at most 100,000
    characters each; a unique external id. `status=published` is for the importer and the
    demo seed only (it records version 1 at once). Logs `article.created`."""
    _check_writer(actor)
    values = _clean_input(data, creating=True)
    values.setdefault("owner", actor)
    if "language" not in values:
        values["language"] = (
            Language.ZH_HANS if search._HANZI.search(values["title"]) else Language.EN
        )
    article = Article(created_by=actor, source_ticket=source_ticket, **values)
    try:
        with transaction.atomic():
            article.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"external_id": [_("An article with this external id exists already.")]}
        ) from exc
    if data.tags is not None:
        article.tags.set(clean_tags(data.tags))
    _index(article)
    article_event_record(article=article, kind=K.CREATED, actor=actor)
    if status == ArticleStatus.PUBLISHED:
        _publish_directly(article, actor)
    if source_ticket is not None:
        _link(article, source_ticket, actor, LinkKind.CREATED_FROM)
    return article


def _publish_directly(article: Article, actor: User) -> None:
    """Imported or seeded articles arrive reviewed elsewhere: published as version 1."""
    Article.objects.filter(pk=article.pk).update(
        status=ArticleStatus.PUBLISHED,
        version=1,
        published_at=timezone.now(),
        last_reviewed_at=timezone.now(),
        review_due_on=article.review_due_on or default_review_date(),
    )
    article.refresh_from_db()
    _record_version(article, actor)
    article_event_record(article=article, kind=K.APPROVED, actor=actor, data={"version": 1})


@transaction.atomic
def article_update(*, article_id: int, actor: User, data: ArticleInput) -> Article:
    """Edit a draft. Guards: the article is a draft and the actor may write it. Logs the
    names of the fields that changed (`article.edited`)."""
    article = _lock(article_id)
    if article.status != ArticleStatus.DRAFT:
        raise IllegalArticleTransition(transition=_("edit"), status=article.get_status_display())
    from .models import can_write

    if not can_write(article, actor):
        raise PermissionDenied(_("You may not edit this article."))
    values = _clean_input(data, creating=False)
    changed = sorted(k for k, v in values.items() if getattr(article, k) != v)
    _apply_values(article, values)
    try:
        with transaction.atomic():
            _save(article, values.keys())
    except IntegrityError as exc:
        raise ValidationError(
            {"external_id": [_("An article with this external id exists already.")]}
        ) from exc
    if data.tags is not None:
        before = set(article.tags.values_list("code", flat=True))
        tags = clean_tags(data.tags)
        article.tags.set(tags)
        if before != {t.code for t in tags}:
            changed.append("tags")
    _index(article)
    if changed:
        article_event_record(article=article, kind=K.EDITED, actor=actor, data={"fields": changed})
    return article


@transaction.atomic
def article_submit(*, article_id: int, actor: User) -> Article:
    """Send a draft for review; reviewers are notified."""
    article = _lock(article_id)
    _transition(article, actor, "submit", {"submitted_by", "review_comment"}, by=actor)
    article_event_record(article=article, kind=K.SUBMITTED, actor=actor)
    # Every agent may review (roles.py), but the request goes to those who own the knowledge:
    # middle-office experts and knowledge managers (manage_knowledge plus verify_fixes or
    # view_reports).
    reviewers = (
        User.objects.filter(is_active=True, groups__permissions__codename="manage_knowledge")
        .filter(groups__permissions__codename__in=["verify_fixes", "view_reports"])
        .exclude(pk=actor.pk)
        .distinct()[:20]
    )
    notify.notify_review_requested(article, list(reviewers))
    return article


def _snapshot(article: Article) -> dict[str, Any]:
    content = {name: getattr(article, name) for name in CONTENT_FIELDS}
    content["tags"] = sorted(article.tags.values_list("code", flat=True))
    content["system"] = article.system.label if article.system_id else ""
    content["category"] = article.category.label if article.category_id else ""
    content["scenario"] = article.scenario.label if article.scenario_id else ""
    return content


def _record_version(article: Article, actor: User | None) -> ArticleVersion:
    return ArticleVersion.objects.create(
        article=article, number=article.version, content=_snapshot(article), published_by=actor
    )


@transaction.atomic
def article_approve(
    *, article_id: int, actor: User, review_due_on: date | None = None, note: str = ""
) -> Article:
    """A reviewer publishes an article in review; the version is kept for ever.

    Guards: `manage_knowledge`, not the person who submitted it; the article still in review
    (a second reviewer acting at once gets IllegalArticleTransition: one wins).
    """
    article = _lock(article_id)
    if review_due_on is not None and review_due_on <= timezone.localdate():
        raise ValidationError({"review_due_on": [_("The next review must be in the future.")]})
    _transition(
        article,
        actor,
        "approve",
        {"version", "published_at", "last_reviewed_at", "review_due_on", "review_notified_for",
         "retired_at"},
        review_due_on=review_due_on or default_review_date(),
    )  # fmt: skip
    _record_version(article, actor)
    article_event_record(
        article=article,
        kind=K.APPROVED,
        actor=actor,
        message=clean_text(note, field="note", max_length=5000, required=False),
        data={"version": article.version},
    )
    return article


@transaction.atomic
def article_return(*, article_id: int, actor: User, comment: str) -> Article:
    """A reviewer returns an article to its author with comments (required)."""
    comment = clean_text(comment, field="comment", max_length=5000, required=True)
    article = _lock(article_id)
    _transition(article, actor, "return_to_author", {"review_comment"}, comment=comment)
    article_event_record(article=article, kind=K.RETURNED, actor=actor, message=comment)
    return article


@transaction.atomic
def article_retire(*, article_id: int, actor: User | None, reason: str = "") -> Article:
    """Retire an article (a reviewer, or the review job with actor None)."""
    reason = clean_text(reason, field="reason", max_length=5000, required=False)
    article = _lock(article_id)
    _transition(article, actor, "retire", {"retired_at"})
    article_event_record(
        article=article,
        kind=K.RETIRED if actor is not None else K.AUTO_RETIRED,
        actor=actor,
        message=reason,
    )
    return article


@transaction.atomic
def article_revise(*, article_id: int, actor: User, ticket: Ticket | None = None) -> Article:
    """Start a new revision: a published or retired article goes back to draft (its published
    versions stay). From a ticket, the ticket's resolution is appended to the steps."""
    article = _lock(article_id)
    _transition(article, actor, "revise", set())
    if ticket is not None and ticket.resolution:
        addition = _("From %(number)s:") % {"number": ticket.number} + "\n" + ticket.resolution
        article.steps = clean_text(
            f"{article.steps}\n\n{addition}".strip(),
            field="steps",
            max_length=SECTION_MAX_LENGTH,
            required=False,
        )
        _save(article, {"steps"})
        _index(article)
        _link(article, ticket, actor, LinkKind.UPDATED_FROM)
    article_event_record(
        article=article,
        kind=K.REVISED,
        actor=actor,
        data={"ticket": ticket.number} if ticket else {},
    )
    return article


@transaction.atomic
def article_confirm_review(
    *, article_id: int, actor: User, review_due_on: date | None = None
) -> Article:
    """A periodic review re-confirms a published article: a new review date."""
    article = _lock(article_id)
    if article.status != ArticleStatus.PUBLISHED or not actor.has_perm("accounts.manage_knowledge"):
        raise IllegalArticleTransition(
            transition=_("confirm the review"), status=article.get_status_display()
        )
    if review_due_on is not None and review_due_on <= timezone.localdate():
        raise ValidationError({"review_due_on": [_("The next review must be in the future.")]})
    article.review_due_on = review_due_on or default_review_date()
    article.last_reviewed_at = timezone.now()
    article.review_notified_for = None
    _save(article, {"review_due_on", "last_reviewed_at", "review_notified_for"})
    article_event_record(
        article=article,
        kind=K.REVIEW_CONFIRMED,
        actor=actor,
        data={"review_due_on": article.review_due_on.isoformat()},
    )
    return article


# --- use: links to tickets, views, deflections, votes ---------------------------------------


def _link(article: Article, ticket: Ticket, actor: User | None, kind: str) -> bool:
    _row, created = ArticleTicketLink.objects.get_or_create(
        article=article, ticket=ticket, kind=kind, defaults={"linked_by": actor}
    )
    if created:
        Article.objects.filter(pk=article.pk).update(
            use_count=F("use_count") + 1, last_used_at=timezone.now()
        )
        article_event_record(
            article=article,
            kind=K.LINKED,
            actor=actor,
            data={"ticket": ticket.number, "kind": kind},
        )
    return created


@transaction.atomic
def article_link_ticket(*, article_id: int, ticket: Ticket, actor: User) -> bool:
    """An agent used a published article on a ticket: linked, counted once per ticket.

    Guards: the actor works tickets; the article is published and visible to agents; the caller
    passes a ticket already fetched through the actor's ticket scope. Returns False when the
    link existed already.
    """
    if not actor.has_perm("accounts.handle_tickets"):
        raise PermissionDenied(_("Only agents link articles to tickets."))
    article = Article.objects.filter(pk=article_id, status=ArticleStatus.PUBLISHED).first()
    if article is None:
        raise ValidationError({"article": [_("No such published article.")]})
    return _link(article, ticket, actor, LinkKind.USED)


def article_record_view(*, article_id: int) -> None:
    """Opening an article counts as a view (one UPDATE, no lock: a counter, not a record)."""
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + 1)


@transaction.atomic
def article_record_deflection(*, article_id: int, requester: User, query: str = "") -> Deflection:
    """ "This solved my problem": no ticket is created; the article counts a deflection.
    Guards: a published public article (what a requester could see)."""
    article = Article.objects.filter(
        pk=article_id, status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC
    ).first()
    if article is None:
        raise ValidationError({"article": [_("No such article.")]})
    deflection = Deflection.objects.create(
        article=article, requester=requester, query=(query or "")[:500].replace("\x00", "")
    )
    Article.objects.filter(pk=article.pk).update(
        deflection_count=F("deflection_count") + 1, last_used_at=timezone.now()
    )
    return deflection


@transaction.atomic
def article_vote(*, article: Article, voter: User, helpful: bool, comment: str = "") -> ArticleVote:
    """Vote an article helpful or not (one vote per person: voting again changes it). The
    caller passes an article fetched through the voter's scope. A comment goes to the owner."""
    comment = clean_text(comment, field="comment", max_length=2000, required=False)
    article = _lock(article.pk)
    vote = ArticleVote.objects.filter(article=article, voter=voter).first()
    if vote is None:
        vote = ArticleVote.objects.create(
            article=article, voter=voter, helpful=helpful, comment=comment
        )
        delta = {"helpful_count": 1} if helpful else {"unhelpful_count": 1}
    else:
        delta = {}
        if vote.helpful != helpful:
            delta = (
                {"helpful_count": 1, "unhelpful_count": -1}
                if helpful
                else {"helpful_count": -1, "unhelpful_count": 1}
            )
        vote.helpful, vote.comment, vote.created_at = helpful, comment, timezone.now()
        vote.save(update_fields=["helpful", "comment", "created_at"])
    if delta:
        Article.objects.filter(pk=article.pk).update(
            **{name: F(name) + change for name, change in delta.items()}
        )
    article_event_record(article=article, kind=K.VOTED, actor=voter, data={"helpful": helpful})
    if comment:
        vote.article = article
        notify.notify_vote_comment(vote)
    return vote


# --- archive from a ticket ------------------------------------------------------------------


def draft_input_from_ticket(ticket: Ticket) -> ArticleInput:
    """A draft pre-filled from a ticket: the symptom from its description, the steps and the
    fix from its resolution and public replies; its system, category and request type."""
    replies = [
        c.body
        for c in ticket.comments.filter(is_internal=False).exclude(author_id=ticket.requester_id)
    ]
    steps = "\n\n".join(filter(None, [*replies, ticket.resolution]))
    language = Language.ZH_HANS if search._HANZI.search(ticket.title) else Language.EN
    return ArticleInput(
        title=ticket.title,
        symptom=ticket.description,
        steps=steps,
        language=language,
        audience=Audience.INTERNAL,
        system=ticket.system,
        module=ticket.module,
        category=ticket.category,
        request_type=ticket.request_type,
        tags=[ticket.category.code] if ticket.category_id else [],
    )


@transaction.atomic
def article_draft_from_ticket(*, ticket: Ticket, actor: User) -> Article:
    """Archive a ticket's resolution as a new draft article, linked to the ticket."""
    if ticket.status not in (Status.RESOLVED, Status.CLOSED, Status.PENDING_VERIFICATION) and (
        not ticket.resolution
    ):
        raise ValidationError({"ticket": [_("Archive a ticket once it has a resolution.")]})
    return article_create(actor=actor, data=draft_input_from_ticket(ticket), source_ticket=ticket)


# --- periodic review (知识评审) -------------------------------------------------------------


@transaction.atomic
def article_mark_review_due(*, article_id: int) -> bool:
    """Put a published article whose review date has passed in the review queue and tell its
    owner, once per review date (`review_notified_for` is the marker). Safe to repeat."""
    article = _lock(article_id)
    today = timezone.localdate()
    if (
        article.status != ArticleStatus.PUBLISHED
        or article.review_due_on is None
        or article.review_due_on > today
        or article.review_notified_for == article.review_due_on
    ):
        return False
    article.review_notified_for = article.review_due_on
    _save(article, {"review_notified_for"})
    article_event_record(
        article=article, kind=K.REVIEW_DUE, data={"review_due_on": article.review_due_on}
    )
    notify.notify_review_due(article)
    return True


def unused_since(article: Article) -> Any:
    return max(
        filter(None, [article.last_used_at, article.last_reviewed_at, article.published_at]),
        default=article.created_at,
    )


@transaction.atomic
def article_auto_retire(*, article_id: int) -> bool:
    """Retire a published article neither used nor reviewed for RETIRE_UNUSED_AFTER_DAYS and
    tell its owner. Re-checks under the lock; safe to repeat."""
    article = _lock(article_id)
    days = knowledge_settings()["RETIRE_UNUSED_AFTER_DAYS"]
    if article.status != ArticleStatus.PUBLISHED or unused_since(article) > (
        timezone.now() - timedelta(days=days)
    ):
        return False
    _transition(article, None, "retire", {"retired_at"})
    article_event_record(
        article=article,
        kind=K.AUTO_RETIRED,
        data={"days": days},
        message=_("Neither used nor reviewed for %(days)d days.") % {"days": days},
    )
    notify.notify_auto_retired(article)
    return True
