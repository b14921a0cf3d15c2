"""Writes of the feedback app, by concern: ratings and surveys, return visits, inspections.
Import them from here (`from feedback.services import rating_submit`)."""

from .inspections import (
    appeal_decide,
    inspection_appeal,
    inspection_request,
    inspection_sample_week,
    inspection_score,
    scorecard_active,
)
from .surveys import (
    rating_submit,
    survey_answer,
    survey_for_token,
    survey_send,
    surveys_remind_due,
)
from .visits import return_visit_open, return_visit_record, return_visits_sample

__all__ = [
    "appeal_decide",
    "inspection_appeal",
    "inspection_request",
    "inspection_sample_week",
    "inspection_score",
    "rating_submit",
    "return_visit_open",
    "return_visit_record",
    "return_visits_sample",
    "scorecard_active",
    "survey_answer",
    "survey_for_token",
    "survey_send",
    "surveys_remind_due",
]
