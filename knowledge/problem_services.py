"""Writes of the defect problem library (缺陷问题库): problems, their tickets, their fix.

The problem and its links live here, not on the ticket: the ticket core stays unaware of it.
Resolving the linked tickets together calls the public ticket service `ticket_resolve` for
each, so every ticket moves exactly as a person would move it (a back-office ticket goes to
verification first) and its operation log says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from accounts.models import User
from catalog.models import InformationSystem, SystemModule
from tickets.choices import Status
from tickets.exceptions import TicketError
from tickets.models import Ticket
from tickets.validation import clean_text

from . import notify, search
from .choices import ProblemEventKind as K
from .choices import ProblemStatus
from .events import problem_event_record
from .exceptions import ConcurrentChange, IllegalArticleTransition
from .models import TITLE_MAX_LENGTH, Article, Problem, ProblemTicketLink

TRANSITIONS = {
    "confirm_known_error": ProblemStatus.KNOWN_ERROR,
    "start_fix": ProblemStatus.FIX_IN_PROGRESS,
    "mark_fixed": ProblemStatus.FIXED,
    "reopen": ProblemStatus.FIX_IN_PROGRESS,
    "close": ProblemStatus.CLOSED,
}
OPEN_TICKET_STATUSES = [Status.NEW, Status.QUEUED, Status.IN_PROGRESS, Status.PENDING]


def can_manage_problems(user: User | None) -> bool:
    """The middle office owns problems: experts (verify_fixes) and knowledge reviewers."""
    return bool(
        user
        and (user.has_perm("accounts.verify_fixes") or user.has_perm("accounts.manage_knowledge"))
    )


def _check(user: User) -> None:
    if not user.has_perm("accounts.handle_tickets") and not can_manage_problems(user):
        raise PermissionDenied(_("Only the service desk works on problems."))


def _index(problem: Problem) -> None:
    literal = search.tsvector_literal(
        [(problem.title, "A"), (problem.root_cause, "B"), (problem.workaround, "C")]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE knowledge_problem SET search_vector = %s::tsvector WHERE id = %s",
            [literal, problem.pk],
        )


@dataclass
class ProblemInput:
    title: str | None = None
    root_cause: str | None = None
    workaround: str | None = None
    workaround_article: Article | None = None
    system: InformationSystem | None = None
    module: SystemModule | None = None
    owner: User | None = None


def _clean(data: ProblemInput, *, creating: bool) -> dict:
    values: dict = {}
    if creating or data.title is not None:
        values["title"] = clean_text(
            data.title, field="title", max_length=TITLE_MAX_LENGTH, required=True
        )
    for name in ("root_cause", "workaround"):
        value = getattr(data, name)
        if value is not None:
            values[name] = clean_text(value, field=name, max_length=50_000, required=False)
    for name in ("workaround_article", "system", "module", "owner"):
        value = getattr(data, name)
        if value is not None:
            values[name] = value
    return values


@transaction.atomic
def problem_create(*, actor: User, data: ProblemInput, ticket: Ticket | None = None) -> Problem:
    """Record a problem (optionally from the ticket that revealed it, which is linked).
    Guards: desk staff; a title. Owner defaults to the actor."""
    _check(actor)
    values = _clean(data, creating=True)
    values.setdefault("owner", actor)
    problem = Problem.objects.create(created_by=actor, **values)
    _index(problem)
    problem_event_record(problem=problem, kind=K.CREATED, actor=actor)
    if ticket is not None:
        _link(problem, ticket, actor)
    return problem


def _lock(problem_id: int) -> Problem:
    try:
        return Problem.objects.select_for_update().get(pk=problem_id)
    except Problem.DoesNotExist as exc:
        raise ValidationError({"problem": [_("No such problem.")]}) from exc


@transaction.atomic
def problem_update(*, problem_id: int, actor: User, data: ProblemInput) -> Problem:
    """Edit a problem's text and classification. Guards: the owner or the middle office."""
    problem = _lock(problem_id)
    if not (can_manage_problems(actor) or problem.owner_id == actor.pk):
        raise PermissionDenied(_("You may not edit this problem."))
    values = _clean(data, creating=False)
    changed = sorted(k for k, v in values.items() if getattr(problem, k) != v)
    for name, value in values.items():
        setattr(problem, name, value)
    problem.save(update_fields=sorted(values))
    _index(problem)
    if changed:
        problem_event_record(problem=problem, kind=K.EDITED, actor=actor, data={"fields": changed})
    return problem


@transaction.atomic
def problem_transition(
    *, problem_id: int, actor: User, transition: str, fix_note: str = ""
) -> Problem:
    """Move a problem along open → known error → fix in progress → fixed → closed.

    Guards: the owner or the middle office; `mark_fixed` needs a fix note. When fixed, the
    agents of its open linked tickets are told (after commit).
    """
    if transition not in TRANSITIONS:
        raise ValidationError({"transition": [_("Not a valid choice.")]})
    problem = _lock(problem_id)
    if not (can_manage_problems(actor) or problem.owner_id == actor.pk):
        raise PermissionDenied(_("You may not change this problem."))
    method = getattr(problem, transition)
    if not can_proceed(method):
        raise IllegalArticleTransition(transition=transition, status=problem.get_status_display())
    before = problem.status
    kwargs, fields = {}, {"status"}
    if transition == "mark_fixed":
        kwargs["fix_note"] = clean_text(
            fix_note, field="fix_note", max_length=20_000, required=True
        )
        fields |= {"fix_note", "fixed_at"}
    elif transition == "reopen":
        fields.add("fixed_at")
    method(**kwargs)
    try:
        problem.save(update_fields=sorted(fields))
    except ConcurrentTransition as exc:
        raise ConcurrentChange() from exc
    problem_event_record(
        problem=problem,
        kind=K.STATUS,
        actor=actor,
        message=problem.fix_note if transition == "mark_fixed" else "",
        data={"old": before, "new": problem.status},
    )
    if transition == "mark_fixed":
        tickets = list(
            Ticket.objects.filter(
                problem_links__problem=problem, status__in=OPEN_TICKET_STATUSES
            ).select_related("assignee")
        )
        notify.notify_problem_fixed(problem, tickets)
    return problem


def _link(problem: Problem, ticket: Ticket, actor: User) -> bool:
    _link_row, created = ProblemTicketLink.objects.get_or_create(
        problem=problem, ticket=ticket, defaults={"linked_by": actor}
    )
    if created:
        Problem.objects.filter(pk=problem.pk).update(ticket_count=F("ticket_count") + 1)
        problem_event_record(
            problem=problem, kind=K.LINKED, actor=actor, data={"ticket": ticket.number}
        )
    return created


@transaction.atomic
def problem_link_ticket(*, problem_id: int, ticket: Ticket, actor: User) -> bool:
    """Link a ticket (already fetched in the actor's scope) to a problem; counted once.
    Guards: an agent; the problem not closed."""
    if not actor.has_perm("accounts.handle_tickets"):
        raise PermissionDenied(_("Only agents link tickets to problems."))
    problem = _lock(problem_id)
    if problem.status == ProblemStatus.CLOSED:
        raise ValidationError({"problem": [_("The problem is closed.")]})
    return _link(problem, ticket, actor)


@dataclass
class ResolveOutcome:
    resolved: list[str]
    skipped: dict[str, str]


def problem_resolve_linked(*, problem_id: int, actor: User) -> ResolveOutcome:
    """Resolve every open linked ticket with the problem's fix note, through the public ticket
    service (each in its own transaction: one that cannot move does not stop the others).

    Guards: the problem is fixed; each ticket must be in progress and resolvable by the actor;
    the others are reported as skipped with the reason.
    """
    from tickets.services import ticket_resolve

    problem = Problem.objects.get(pk=problem_id)
    if not (can_manage_problems(actor) or problem.owner_id == actor.pk):
        raise PermissionDenied(_("You may not change this problem."))
    if problem.status != ProblemStatus.FIXED:
        raise ValidationError({"problem": [_("Mark the problem fixed first.")]})
    outcome = ResolveOutcome(resolved=[], skipped={})
    tickets = Ticket.objects.filter(
        problem_links__problem=problem, status__in=OPEN_TICKET_STATUSES
    ).order_by("id")
    note = _("Fixed at the root (%(problem)s): %(note)s") % {
        "problem": problem.title,
        "note": problem.fix_note,
    }
    for ticket in tickets:
        if ticket.status != Status.IN_PROGRESS:
            outcome.skipped[ticket.number] = ticket.get_status_display()
            continue
        try:
            ticket_resolve(ticket_id=ticket.pk, actor=actor, resolution=note)
        except (TicketError, ValidationError, PermissionDenied) as exc:
            outcome.skipped[ticket.number] = str(exc)
        else:
            outcome.resolved.append(ticket.number)
    with transaction.atomic():
        problem_event_record(
            problem=problem,
            kind=K.RESOLVED_LINKED,
            actor=actor,
            data={"resolved": outcome.resolved, "skipped": outcome.skipped},
        )
    return outcome
