"""The knowledge API: read articles and problems in the viewer's scope, one endpoint per action.

Errors are JSON with field messages (servicedesk.api.exception_handler); a transition that is
no longer possible (two reviewers approving at once: the second) answers 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api import conflict
from tickets.models import Ticket
from tickets.selectors import ticket_get

from .. import problem_services, selectors, services
from ..exceptions import KnowledgeError
from ..models import Article, Problem
from . import serializers as s


def _article(request: Request, article_id: int) -> Article:
    try:
        return selectors.article_get(viewer=request.user, article_id=article_id)
    except Article.DoesNotExist as exc:
        raise NotFound() from exc


def _ticket(request: Request, number: str) -> Ticket:
    try:
        return ticket_get(viewer=request.user, number=number)
    except Ticket.DoesNotExist as exc:
        raise ValidationError({"ticket": [_("No such ticket.")]}) from exc


def _run(call: Callable[[], Any]) -> Any:
    """Call a service; a domain conflict becomes a Response (409), the rest propagates."""
    try:
        return call()
    except KnowledgeError as exc:
        return conflict(str(exc))
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from exc


def _input(data: dict) -> services.ArticleInput:
    values = dict(data)
    given = {k for k in ("scenario", "system", "module", "category", "request_type") if k in data}
    return services.ArticleInput(given=given, **values)


class ArticlePages(LimitOffsetPagination):
    """Pages of articles: 50 by default, at most 200 (without a default the paginator would
    not paginate at all and its response would fail)."""

    default_limit = 50
    max_limit = 200


ArticlePage = inline_serializer(
    "ArticlePage",
    {
        "count": serializers.IntegerField(),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
        "results": s.ArticleSerializer(many=True),
    },
)
Suggestions = inline_serializer("Suggestions", {"results": s.SuggestionSerializer(many=True)})


class ArticleListView(APIView):
    """GET articles in the viewer's scope (search with `q`), POST a new draft."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("status", str),
            OpenApiParameter("lang", str),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses={200: ArticlePage},
        operation_id="knowledge_articles_list",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        if params.get("q"):
            hits = selectors.article_search(
                viewer=request.user, query=params["q"], language=params.get("lang", ""), limit=50
            )
            # The same shape as the pages below: one page of the best matches.
            results = s.ArticleSerializer([h.article for h in hits], many=True).data
            return Response(
                {"count": len(results), "next": None, "previous": None, "results": results}
            )
        queryset = selectors.article_list(
            viewer=request.user,
            filters=selectors.ArticleFilters(
                status=params.get("status", ""), language=params.get("lang", "")
            ),
        ).prefetch_related("tags")
        paginator = ArticlePages()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(s.ArticleSerializer(page, many=True).data)

    @extend_schema(request=s.ArticleInputSerializer, responses={201: s.ArticleSerializer})
    def post(self, request: Request) -> Response:
        serializer = s.ArticleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "title" not in serializer.validated_data:
            raise ValidationError({"title": [_("This field is required.")]})
        article = _run(
            lambda: services.article_create(
                actor=request.user, data=_input(serializer.validated_data)
            )
        )
        if isinstance(article, Response):
            return article
        return Response(s.ArticleSerializer(article).data, status=status.HTTP_201_CREATED)


class ArticleDetailView(APIView):
    """GET one article (404 outside the viewer's audience), PATCH a draft."""

    @extend_schema(responses={200: s.ArticleSerializer})
    def get(self, request: Request, article_id: int) -> Response:
        article = _article(request, article_id)
        services.article_record_view(article_id=article.pk)
        return Response(s.ArticleSerializer(article).data)

    @extend_schema(request=s.ArticleInputSerializer, responses={200: s.ArticleSerializer})
    def patch(self, request: Request, article_id: int) -> Response:
        article = _article(request, article_id)
        serializer = s.ArticleInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        result = _run(
            lambda: services.article_update(
                article_id=article.pk, actor=request.user, data=_input(serializer.validated_data)
            )
        )
        if isinstance(result, Response):
            return result
        return Response(s.ArticleSerializer(_article(request, article.pk)).data)


def _action(
    name: str,
    input_serializer: type | None,
    call: Callable[[Request, Article, dict], Any],
    doc: str,
    response: Any = s.ArticleSerializer,
) -> type[APIView]:
    """One POST endpoint per lifecycle action: input serializer → service → the article."""

    class ActionView(APIView):
        @extend_schema(request=input_serializer, responses={200: response, 409: None})
        def post(self, request: Request, article_id: int) -> Response:
            article = _article(request, article_id)
            data: dict = {}
            if input_serializer is not None:
                serializer = input_serializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                data = serializer.validated_data
            result = _run(lambda: call(request, article, data))
            if isinstance(result, Response):
                return result
            if response is s.ArticleSerializer:
                return Response(s.ArticleSerializer(_article(request, article.pk)).data)
            return Response(response(result).data)

    ActionView.__name__ = ActionView.__qualname__ = f"Article{name}View"
    ActionView.__doc__ = doc
    return ActionView


ArticleSubmitView = _action(
    "Submit",
    None,
    lambda r, a, d: services.article_submit(article_id=a.pk, actor=r.user),
    "POST: send a draft for review.",
)
ArticleApproveView = _action(
    "Approve",
    s.ArticleApproveSerializer,
    lambda r, a, d: services.article_approve(article_id=a.pk, actor=r.user, **d),
    "POST: publish an article in review (manage_knowledge; not your own). 409 if it is "
    "no longer in review.",
)
ArticleReturnView = _action(
    "Return",
    s.ArticleReturnSerializer,
    lambda r, a, d: services.article_return(article_id=a.pk, actor=r.user, **d),
    "POST: return an article in review to its author with a comment.",
)
ArticleRetireView = _action(
    "Retire",
    s.ArticleRetireSerializer,
    lambda r, a, d: services.article_retire(article_id=a.pk, actor=r.user, **d),
    "POST: retire an article.",
)
ArticleReviseView = _action(
    "Revise",
    None,
    lambda r, a, d: services.article_revise(article_id=a.pk, actor=r.user),
    "POST: start a new revision (back to draft).",
)
ArticleConfirmReviewView = _action(
    "ConfirmReview",
    s.ArticleReviewDateSerializer,
    lambda r, a, d: services.article_confirm_review(article_id=a.pk, actor=r.user, **d),
    "POST: the periodic review re-confirms the article; sets the next review date.",
)
ArticleVoteView = _action(
    "Vote",
    s.ArticleVoteSerializer,
    lambda r, a, d: services.article_vote(article=a, voter=r.user, **d),
    "POST: vote the article helpful or not (one vote per person), optional comment.",
)


def _link(request: Request, article: Article, data: dict) -> dict:
    ticket = _ticket(request, data["ticket"])
    created = services.article_link_ticket(article_id=article.pk, ticket=ticket, actor=request.user)
    return {"created": created}


ArticleLinkTicketView = _action(
    "LinkTicket",
    s.KnowledgeTicketRefSerializer,
    _link,
    "POST: the article was used on a ticket: link and count it (agents).",
    response=s.KnowledgeLinkResultSerializer,
)


class ArticleVersionsView(APIView):
    """GET every published version of an article."""

    @extend_schema(responses={200: s.ArticleVersionSerializer(many=True)})
    def get(self, request: Request, article_id: int) -> Response:
        article = _article(request, article_id)
        if not selectors.is_desk_staff(request.user):
            raise PermissionDenied()
        versions = selectors.article_versions(article=article)
        return Response(s.ArticleVersionSerializer(versions, many=True).data)


class SuggestView(APIView):
    """GET ranked published articles for a text, scoped by the viewer's audience."""

    @extend_schema(parameters=[s.SuggestQuerySerializer], responses={200: Suggestions})
    def get(self, request: Request) -> Response:
        query = s.SuggestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        hits = selectors.article_search(
            viewer=request.user,
            query=data.get("q", ""),
            language=data.get("lang", ""),
            system_id=data.get("system"),
            category_id=data.get("category"),
            limit=data["limit"],
        )
        return Response({"results": s.SuggestionSerializer(hits, many=True).data})


# --- problems -------------------------------------------------------------------------------


def _problem(request: Request, problem_id: int) -> Problem:
    try:
        return selectors.problem_get(viewer=request.user, problem_id=problem_id)
    except Problem.DoesNotExist as exc:
        raise NotFound() from exc


class ProblemListView(APIView):
    """GET problems ranked by linked tickets (desk staff), POST a new problem."""

    @extend_schema(
        parameters=[s.ProblemFilterSerializer], responses={200: s.ProblemSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        if not selectors.is_desk_staff(request.user):
            raise PermissionDenied()
        filters = s.ProblemFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        problems = selectors.problem_list(viewer=request.user, **filters.validated_data)[:200]
        return Response(s.ProblemSerializer(problems, many=True).data)

    @extend_schema(request=s.ProblemInputSerializer, responses={201: s.ProblemSerializer})
    def post(self, request: Request) -> Response:
        serializer = s.ProblemInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        number = data.pop("ticket", None)
        ticket = _ticket(request, number) if number else None
        problem = _run(
            lambda: problem_services.problem_create(
                actor=request.user, data=problem_services.ProblemInput(**data), ticket=ticket
            )
        )
        if isinstance(problem, Response):
            return problem
        problem.refresh_from_db()
        return Response(s.ProblemSerializer(problem).data, status=status.HTTP_201_CREATED)


class ProblemDetailView(APIView):
    @extend_schema(responses={200: s.ProblemSerializer})
    def get(self, request: Request, problem_id: int) -> Response:
        return Response(s.ProblemSerializer(_problem(request, problem_id)).data)


class ProblemTransitionView(APIView):
    """POST a status change: confirm_known_error, start_fix, mark_fixed (fix note), reopen,
    close."""

    @extend_schema(request=s.ProblemTransitionSerializer, responses={200: s.ProblemSerializer})
    def post(self, request: Request, problem_id: int) -> Response:
        problem = _problem(request, problem_id)
        serializer = s.ProblemTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = _run(
            lambda: problem_services.problem_transition(
                problem_id=problem.pk, actor=request.user, **serializer.validated_data
            )
        )
        if isinstance(result, Response):
            return result
        return Response(s.ProblemSerializer(result).data)


class ProblemLinkTicketView(APIView):
    """POST: link a ticket to the problem (counted once)."""

    @extend_schema(
        request=s.KnowledgeTicketRefSerializer, responses={200: s.KnowledgeLinkResultSerializer}
    )
    def post(self, request: Request, problem_id: int) -> Response:
        problem = _problem(request, problem_id)
        serializer = s.KnowledgeTicketRefSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = _ticket(request, serializer.validated_data["ticket"])
        created = _run(
            lambda: problem_services.problem_link_ticket(
                problem_id=problem.pk, ticket=ticket, actor=request.user
            )
        )
        if isinstance(created, Response):
            return created
        return Response({"created": created})


class ProblemResolveLinkedView(APIView):
    """POST: resolve the fixed problem's open linked tickets with its fix note."""

    @extend_schema(request=None, responses={200: s.ResolveOutcomeSerializer})
    def post(self, request: Request, problem_id: int) -> Response:
        problem = _problem(request, problem_id)
        outcome = _run(
            lambda: problem_services.problem_resolve_linked(
                problem_id=problem.pk, actor=request.user
            )
        )
        if isinstance(outcome, Response):
            return outcome
        return Response(s.ResolveOutcomeSerializer(outcome).data)
