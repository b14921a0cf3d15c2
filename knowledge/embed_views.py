"""Knowledge where the work happens: the portal's suggestions and help pages, and the panel
of the agent's ticket page. Both are HTMX fragments the portal and workspace templates load
from here, so their own views stay untouched.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets.choices import Status

from . import forms, problem_services, selectors, services
from .choices import ArticleStatus, Audience
from .models import Article, ArticleTicketLink
from .views import _ticket_or_404, run, staff_required

PORTAL_SUGGESTIONS = 5


def _public_article(request: HttpRequest, article_id: int) -> Article:
    """A published article for the portal: public ones only, whoever asks."""
    try:
        return selectors.article_get(viewer=request.user, article_id=article_id)
    except Article.DoesNotExist as exc:
        raise Http404(_("No such article.")) from exc


def _portal_visible(article: Article) -> bool:
    return article.status == ArticleStatus.PUBLISHED and article.audience == Audience.PUBLIC


@login_required
def portal_suggest(request: HttpRequest) -> HttpResponse:
    """The top public articles for what the requester is typing (title + description)."""
    text = f"{request.GET.get('title', '')}\n{request.GET.get('description', '')}".strip()
    hits = selectors.article_search(
        viewer=request.user,
        query=text,
        limit=PORTAL_SUGGESTIONS,
        audiences=[Audience.PUBLIC],
    )
    return render(
        request, "knowledge/portal/_suggestions.html", {"hits": hits, "query": text[:500]}
    )


@login_required
def portal_article(request: HttpRequest, article_id: int) -> HttpResponse:
    """A public article on the portal (a full page, or the inline fragment under the form).
    Opening it counts as a view."""
    article = _public_article(request, article_id)
    if not _portal_visible(article):
        raise Http404(_("No such article."))
    services.article_record_view(article_id=article.pk)
    template = "knowledge/portal/_article.html" if request.htmx else "knowledge/portal/article.html"
    return render(
        request,
        template,
        {
            "article": article,
            "query": request.GET.get("q", "")[:500],
            "vote_form": forms.VoteForm(),
            "nav": "help",
        },
    )


@login_required
@require_POST
def portal_solved(request: HttpRequest, article_id: int) -> HttpResponse:
    """ "This solved my problem": no ticket; the deflection is counted."""
    article = _public_article(request, article_id)
    ok, _result = run(
        request,
        lambda: services.article_record_deflection(
            article_id=article.pk,
            requester=request.user,
            query=request.POST.get("q", ""),
        ),
    )
    if ok:
        messages.success(
            request, _("Glad it helped. No request was created; you can always submit one.")
        )
    target = reverse("portal:home")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


@login_required
@require_POST
def portal_vote(request: HttpRequest, article_id: int) -> HttpResponse:
    article = _public_article(request, article_id)
    form = forms.VoteForm(request.POST)
    if form.is_valid():
        ok, _vote = run(
            request,
            lambda: services.article_vote(article=article, voter=request.user, **form.cleaned_data),
        )
        if ok:
            messages.success(request, _("Thank you for your feedback."))
    else:
        messages.error(request, _("Choose helpful or not helpful."))
    return redirect("knowledge:help_article", article_id=article.pk)


@login_required
def portal_help(request: HttpRequest) -> HttpResponse:
    """The requester's help centre: search the public articles."""
    query = request.GET.get("q", "")[:500]
    hits = selectors.article_search(
        viewer=request.user, query=query, limit=20, audiences=[Audience.PUBLIC]
    )
    popular = []
    if not query:
        popular = list(
            selectors.visible_articles(request.user)
            .filter(status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC)
            .order_by("-deflection_count", "-use_count", "-id")[:10]
        )
    return render(
        request,
        "knowledge/portal/help.html",
        {"hits": hits, "popular": popular, "query": query, "nav": "help"},
    )


# --- the agent's ticket page ----------------------------------------------------------------


def _panel(request: HttpRequest, ticket, *, status: int = 200) -> HttpResponse:
    user = request.user
    links = list(selectors.ticket_article_links(ticket=ticket))
    linked_ids = {link.article_id for link in links}
    hits = [
        h
        for h in selectors.suggestions_for_ticket(viewer=user, ticket=ticket, limit=6)
        if h.article.pk not in linked_ids
    ][:5]
    problem_links = list(selectors.problems_for_ticket(ticket=ticket))
    can_archive = bool(ticket.resolution) or ticket.status in (Status.RESOLVED, Status.CLOSED)
    return render(
        request,
        "knowledge/_ticket_panel.html",
        {
            "ticket": ticket,
            "hits": hits,
            "links": links,
            "used_articles": [
                link.article for link in links if link.article.status == ArticleStatus.PUBLISHED
            ],
            "problem_links": problem_links,
            "similar_problems": selectors.similar_problems(viewer=user, ticket=ticket),
            "can_archive": can_archive,
            "can_link": user.has_perm("accounts.handle_tickets"),
        },
        status=status,
    )


@staff_required
def ticket_panel(request: HttpRequest, number: str) -> HttpResponse:
    """Suggested and linked articles, and problems, for the agent's ticket page (lazy HTMX)."""
    return _panel(request, _ticket_or_404(request, number))


@staff_required
@require_POST
def ticket_link_article(request: HttpRequest, number: str, article_id: int) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    try:
        selectors.article_get(viewer=request.user, article_id=article_id)
    except Article.DoesNotExist as exc:
        raise Http404 from exc
    ok, _created = run(
        request,
        lambda: services.article_link_ticket(
            article_id=article_id, ticket=ticket, actor=request.user
        ),
    )
    if request.htmx:
        return _panel(request, ticket, status=200 if ok else 400)
    return redirect("workspace:ticket", number=ticket.number)


@staff_required
@require_POST
def ticket_link_problem(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket_or_404(request, number)
    form = forms.ProblemLinkForm(request.POST)
    ok = False
    if form.is_valid():
        ok, _created = run(
            request,
            lambda: problem_services.problem_link_ticket(
                problem_id=form.cleaned_data["problem"].pk, ticket=ticket, actor=request.user
            ),
        )
    if request.htmx:
        return _panel(request, ticket, status=200 if ok else 400)
    return redirect("workspace:ticket", number=ticket.number)


@staff_required
@require_POST
def ticket_update_article(request: HttpRequest, number: str, article_id: int) -> HttpResponse:
    """ "Update the linked article": a new draft revision carrying the ticket's resolution."""
    ticket = _ticket_or_404(request, number)
    if not ArticleTicketLink.objects.filter(ticket=ticket, article_id=article_id).exists():
        raise Http404
    ok, article = run(
        request,
        lambda: services.article_revise(article_id=article_id, actor=request.user, ticket=ticket),
    )
    if ok:
        messages.success(request, _("A new revision was started from this ticket."))
        return redirect("knowledge:article_edit", article_id=article.pk)
    return redirect("workspace:ticket", number=ticket.number)


@login_required
def attachment_download(request: HttpRequest, attachment_id: int):
    """An article's screenshot, for whoever may open the article (never a hint otherwise)."""
    from tickets.views import attachment_response

    from .models import ArticleAttachment

    attachment = ArticleAttachment.objects.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    _public_article(request, attachment.article_id)
    return attachment_response(attachment)


@staff_required
@require_POST
def attachment_upload(request: HttpRequest, article_id: int) -> HttpResponse:
    from .attachments import article_attachment_add

    try:
        article = selectors.article_get(viewer=request.user, article_id=article_id)
    except Article.DoesNotExist as exc:
        raise Http404 from exc
    ok, _attachment = run(
        request,
        lambda: article_attachment_add(
            article=article, actor=request.user, upload=request.FILES.get("file")
        ),
    )
    if ok:
        messages.success(request, _("The screenshot was attached."))
    return redirect("knowledge:article", article_id=article.pk)
