"""The feedback API: answer a survey by its token (no login, like the link), and the
inspection scores per agent or team in a period (report readers)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from servicedesk.api import ERRORS, validated

from .. import selectors, services
from . import serializers as s


class SurveyAnswerView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=s.SurveyAnswerSerializer, responses={201: s.RatingSerializer, **ERRORS})
    def post(self, request: Request, token: str) -> Response:
        """Answer the survey of the token (single use: a used, expired or unknown token is 404)."""
        data = validated(s.SurveyAnswerSerializer, request)
        rating = services.survey_answer(token=token, **data)
        return Response(s.RatingSerializer(rating).data, status=status.HTTP_201_CREATED)


def _day(value: str, field: str):
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise ValidationError({field: ["Use YYYY-MM-DD."]}) from exc
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class ScoresView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("by", enum=["agent", "team"]),
            OpenApiParameter("start", str),
            OpenApiParameter("end", str),
        ],
        responses={200: s.ScoreRowSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        """Mean inspection score and count per agent or team, scored in [start, end]."""
        by = request.query_params.get("by", "agent")
        if by not in ("agent", "team"):
            raise ValidationError({"by": ["Use agent or team."]})
        start = _day(request.query_params.get("start", ""), "start")
        end = _day(request.query_params.get("end", ""), "end")
        if not request.user.has_perm("accounts.view_reports"):
            return Response({"detail": "Not allowed for you."}, status=403)
        rows = selectors.inspection_scores(
            viewer=request.user, by=by, start=start, end=end and end + timedelta(days=1)
        )
        key = {"agent": "agent__username", "team": "team__name"}[by]
        data = [{"key": r[key], "mean": r["mean"], "count": r["count"]} for r in rows]
        return Response(s.ScoreRowSerializer(data, many=True).data)
