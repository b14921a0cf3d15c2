"""The knowledge pages of the agent workspace: articles, their review, and the problem library.

Reads go through `knowledge.selectors` (scoped by the viewer), writes through the services;
service errors become form errors or messages (servicedesk.ui.run_service), never a 500.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_fsm import has_transition_perm

from servicedesk.ui import Sort, keyset_page
from tickets.models import Ticket
from tickets.selectors import ticket_get

from . import forms, problem_services, selectors, services
from .choices import ArticleStatus, ProblemStatus
from .exceptions import KnowledgeError
from .models import Article, Problem

ACTION_LABELS = {
    "submit": gettext_lazy("Submit for review"),
    "approve": gettext_lazy("Approve and publish"),
    "return": gettext_lazy("Return to the author"),
    "retire": gettext_lazy("Retire"),
    "revise": gettext_lazy("Start a new revision"),
    "confirm_review": gettext_lazy("Confirm (reviewed, still right)"),
}
PROBLEM_ACTIONS = {
    "confirm_known_error": gettext_lazy("Known error (root cause found)"),
    "start_fix": gettext_lazy("Fix in progress"),
    "mark_fixed": gettext_lazy("Mark fixed"),
    "reopen": gettext_lazy("Reopen (fix did not hold)"),
    "close": gettext_lazy("Close"),
}
PAGE_SIZE = 50
NEWEST = Sort("newest", gettext_lazy("Newest first"), None, id_descending=True)


def staff_required(view: Callable) -> Callable:
    """Knowledge management is for desk staff; requesters use the portal's help pages."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not selectors.is_desk_staff(request.user):
            raise PermissionDenied(_("The knowledge workspace is for the service desk."))
        return view(request, *args, **kwargs)

    return wrapper


def run(request: HttpRequest, call: Callable, *, form=None):
    """Call a service; put a domain error where the person sees it. (ok, result)"""
    try:
        return True, call()
    except ValidationError as exc:
        if form is not None and hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            for error in exc.messages:
                messages.error(request, error)
    except (KnowledgeError, PermissionDenied) as exc:
        messages.error(request, str(exc) or _("You may not do this."))
    return False, None


def _article_or_404(request: HttpRequest, article_id: int) -> Article:
    try:
        return selectors.article_get(viewer=request.user, article_id=article_id)
    except Article.DoesNotExist as exc:
        raise Http404(_("No such article.")) from exc


def _ticket_or_404(request: HttpRequest, number: str) -> Ticket:
    try:
        return ticket_get(viewer=request.user, number=number)
    except Ticket.DoesNotExist as exc:
        raise Http404(_("No such ticket.")) from exc


@staff_required
def article_list(request: HttpRequest) -> HttpResponse:
    form = forms.ArticleSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    hits, page = None, None
    if data.get("q"):
        hits = selectors.article_search(
            viewer=request.user, query=data["q"], language=data.get("language", ""), limit=50
        )
    else:
        queryset = selectors.article_list(
            viewer=request.user,
            filters=selectors.ArticleFilters(
                status=data.get("status", ""), language=data.get("language", "")
            ),
        )
        page = keyset_page(
            queryset,
            NEWEST,
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
            size=PAGE_SIZE,
        )
    return render(
        request,
        "knowledge/article_list.html",
        {
            "form": form,
            "hits": hits,
            "page": page,
            "nav": "knowledge",
            "archive": selectors.archive_counts(),
        },
    )


def _actions(article: Article, user) -> list[str]:
    names = []
    for name, method in (
        ("submit", article.submit),
        ("approve", article.approve),
        ("return", article.return_to_author),
        ("retire", article.retire),
        ("revise", article.revise),
    ):
        if name in ("approve", "return", "retire") and not user.has_perm(
            "accounts.manage_knowledge"
        ):
            continue
        if any(
            t.name == method.__name__ for t in article.get_available_status_transitions()
        ) and has_transition_perm(method, user):
            names.append(name)
    if article.status == ArticleStatus.PUBLISHED and user.has_perm("accounts.manage_knowledge"):
        names.append("confirm_review")
    return names


def _render_article(request: HttpRequest, article: Article, *, bound=None, status=200):
    versions = list(selectors.article_versions(article=article)[:20])
    context = {
        "article": article,
        "nav": "knowledge",
        "actions": [(n, ACTION_LABELS[n]) for n in _actions(article, request.user)],
        "can_edit": article.status == ArticleStatus.DRAFT
        and services_can_write(article, request.user),
        "approve_form": (bound or {}).get("approve") or forms.ApproveForm(),
        "return_form": (bound or {}).get("return") or forms.CommentForm(),
        "retire_form": (bound or {}).get("retire") or forms.ReasonForm(),
        "vote_form": forms.VoteForm(),
        "my_vote": article.votes.filter(voter=request.user).first(),
        "versions": versions,
        "events": article.events.select_related("actor").order_by("-id")[:50],
        "links": article.ticket_links.select_related("ticket").order_by("-id")[:20],
        "translations": article.translations.all(),
    }
    return render(request, "knowledge/article_detail.html", context, status=status)


def services_can_write(article: Article, user) -> bool:
    from .models import can_write

    return can_write(article, user)


@staff_required
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _article_or_404(request, article_id)
    services.article_record_view(article_id=article.pk)
    return _render_article(request, article)


@staff_required
def article_edit(
    request: HttpRequest, article_id: int | None = None, number: str | None = None
) -> HttpResponse:
    """New draft, a draft from a ticket (`number`), or the edit of a draft."""
    article = _article_or_404(request, article_id) if article_id else None
    ticket = _ticket_or_404(request, number) if number else None
    if article is not None:
        initial = forms.ArticleForm.initial_from(article)
    elif ticket is not None:
        initial = forms.ArticleForm.initial_from_input(services.draft_input_from_ticket(ticket))
    else:
        initial = {"language": "zh-hans" if request.LANGUAGE_CODE.startswith("zh") else "en"}
    form = forms.ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if article is not None:
            call = lambda: services.article_update(  # noqa: E731
                article_id=article.pk, actor=request.user, data=form.to_input()
            )
        else:
            call = lambda: services.article_create(  # noqa: E731
                actor=request.user, data=form.to_input(), source_ticket=ticket
            )
        ok, saved = run(request, call, form=form)
        if ok:
            messages.success(request, _("The draft was saved."))
            return redirect("knowledge:article", article_id=saved.pk)
    return render(
        request,
        "knowledge/article_form.html",
        {"form": form, "article": article, "ticket": ticket, "nav": "knowledge"},
        status=400 if form.is_bound and form.errors else 200,
    )


@staff_required
@require_POST
def article_act(request: HttpRequest, article_id: int, action: str) -> HttpResponse:
    article = _article_or_404(request, article_id)
    user = request.user
    form = None
    if action == "submit":
        call = lambda: services.article_submit(article_id=article.pk, actor=user)  # noqa: E731
    elif action == "approve":
        form = forms.ApproveForm(request.POST)
        call = lambda: services.article_approve(  # noqa: E731
            article_id=article.pk, actor=user, **form.cleaned_data
        )
    elif action == "return":
        form = forms.CommentForm(request.POST)
        call = lambda: services.article_return(  # noqa: E731
            article_id=article.pk, actor=user, **form.cleaned_data
        )
    elif action == "retire":
        form = forms.ReasonForm(request.POST)
        call = lambda: services.article_retire(  # noqa: E731
            article_id=article.pk, actor=user, **form.cleaned_data
        )
    elif action == "revise":
        ticket = (
            _ticket_or_404(request, request.POST["ticket"]) if request.POST.get("ticket") else None
        )
        call = lambda: services.article_revise(  # noqa: E731
            article_id=article.pk, actor=user, ticket=ticket
        )
    elif action == "confirm_review":
        form = forms.ApproveForm(request.POST)
        call = lambda: services.article_confirm_review(  # noqa: E731
            article_id=article.pk,
            actor=user,
            review_due_on=form.cleaned_data.get("review_due_on"),
        )
    elif action == "vote":
        form = forms.VoteForm(request.POST)
        call = lambda: services.article_vote(article=article, voter=user, **form.cleaned_data)  # noqa: E731
    else:
        raise Http404
    if form is not None and not form.is_valid():
        return _render_article(request, article, bound={action: form}, status=400)
    ok, _result = run(request, call, form=form)
    if ok:
        messages.success(
            request, _("Done: %(action)s.") % {"action": ACTION_LABELS.get(action, _("vote"))}
        )
    elif form is not None and form.errors:
        return _render_article(request, article, bound={action: form}, status=400)
    return redirect("knowledge:article", article_id=article.pk)


@staff_required
def article_diff(request: HttpRequest, article_id: int) -> HttpResponse:
    """Compare two published versions section by section (line diff)."""
    article = _article_or_404(request, article_id)
    versions = {v.number: v for v in article.versions.all()}
    try:
        a = versions[int(request.GET.get("a", 0))]
        b = versions[int(request.GET.get("b", 0))]
    except (KeyError, ValueError) as exc:
        raise Http404(_("Choose two published versions.")) from exc
    sections = []
    for name in (*services.CONTENT_FIELDS, "tags", "system", "category", "scenario"):
        old, new = a.content.get(name, ""), b.content.get(name, "")
        old = ", ".join(old) if isinstance(old, list) else str(old or "")
        new = ", ".join(new) if isinstance(new, list) else str(new or "")
        if old != new:
            lines = list(difflib.ndiff(old.splitlines(), new.splitlines()))
            sections.append((name, [(line[:1], line[2:]) for line in lines if line[:1] != "?"]))
    return render(
        request,
        "knowledge/article_diff.html",
        {"article": article, "a": a, "b": b, "sections": sections, "nav": "knowledge"},
    )


@staff_required
def review_queue(request: HttpRequest) -> HttpResponse:
    queues = selectors.review_queue(viewer=request.user)
    return render(
        request,
        "knowledge/review_queue.html",
        {
            "in_review": queues["in_review"][:200],
            "review_due": queues["review_due"][:200],
            "nav": "knowledge_review",
        },
    )


# --- problems -------------------------------------------------------------------------------


def _problem_or_404(request: HttpRequest, problem_id: int) -> Problem:
    try:
        return selectors.problem_get(viewer=request.user, problem_id=problem_id)
    except Problem.DoesNotExist as exc:
        raise Http404(_("No such problem.")) from exc


@staff_required
def problem_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ProblemStatus.values:
        status = ""
    problems = selectors.problem_list(
        viewer=request.user, status=status, open_only=not status and "all" not in request.GET
    )[:200]
    return render(
        request,
        "knowledge/problem_list.html",
        {"problems": problems, "status": status, "statuses": ProblemStatus.choices,
         "nav": "knowledge_problems"},
    )  # fmt: skip


@staff_required
def problem_new(request: HttpRequest) -> HttpResponse:
    number = request.GET.get("ticket") or request.POST.get("ticket")
    ticket = _ticket_or_404(request, number) if number else None
    initial = {"title": ticket.title, "system": ticket.system_id} if ticket else {}
    form = forms.ProblemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        ok, problem = run(
            request,
            lambda: problem_services.problem_create(
                actor=request.user,
                data=problem_services.ProblemInput(**form.cleaned_data),
                ticket=ticket,
            ),
            form=form,
        )
        if ok:
            messages.success(request, _("The problem was recorded."))
            return redirect("knowledge:problem", problem_id=problem.pk)
    return render(
        request,
        "knowledge/problem_form.html",
        {"form": form, "ticket": ticket, "nav": "knowledge_problems"},
        status=400 if form.is_bound and form.errors else 200,
    )


@staff_required
def problem_detail(request: HttpRequest, problem_id: int) -> HttpResponse:
    problem = _problem_or_404(request, problem_id)
    available = {t.name for t in problem.get_available_status_transitions()}
    return render(
        request,
        "knowledge/problem_detail.html",
        {
            "problem": problem,
            "links": selectors.problem_tickets(problem=problem),
            "events": problem.events.select_related("actor").order_by("-id")[:50],
            "actions": [(n, label) for n, label in PROBLEM_ACTIONS.items() if n in available],
            "can_manage": problem_services.can_manage_problems(request.user)
            or problem.owner_id == request.user.pk,
            "transition_form": forms.ProblemTransitionForm(),
            "nav": "knowledge_problems",
        },
    )


@staff_required
@require_POST
def problem_act(request: HttpRequest, problem_id: int, action: str) -> HttpResponse:
    problem = _problem_or_404(request, problem_id)
    if action == "resolve_linked":
        ok, outcome = run(
            request,
            lambda: problem_services.problem_resolve_linked(
                problem_id=problem.pk, actor=request.user
            ),
        )
        if ok:
            messages.success(
                request,
                _("Resolved: %(resolved)s. Left as they were: %(skipped)s.")
                % {
                    "resolved": ", ".join(outcome.resolved) or "–",
                    "skipped": ", ".join(f"{k} ({v})" for k, v in outcome.skipped.items()) or "–",
                },
            )
        return redirect("knowledge:problem", problem_id=problem.pk)
    if action not in PROBLEM_ACTIONS:
        raise Http404
    form = forms.ProblemTransitionForm(request.POST)
    form.is_valid()
    ok, _result = run(
        request,
        lambda: problem_services.problem_transition(
            problem_id=problem.pk,
            actor=request.user,
            transition=action,
            fix_note=form.cleaned_data.get("fix_note", ""),
        ),
    )
    if ok:
        messages.success(request, _("Done: %(action)s.") % {"action": PROBLEM_ACTIONS[action]})
    return redirect("knowledge:problem", problem_id=problem.pk)
