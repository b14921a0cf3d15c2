"""URLs of the feedback API, included under /api/ by servicedesk/api_urls.py."""

from django.urls import path

from .views import ScoresView, SurveyAnswerView

urlpatterns = [
    path("surveys/<str:token>/", SurveyAnswerView.as_view(), name="api-survey-answer"),
    path("feedback/scores/", ScoresView.as_view(), name="api-feedback-scores"),
]
