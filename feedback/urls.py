from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("", views.home, name="home"),
    path("survey/<str:token>/", views.survey, name="survey"),
    path("stats/", views.stats, name="stats"),
    path("inspections/<int:inspection_id>/", views.inspection, name="inspection"),
    path("inspections/<int:inspection_id>/appeal/", views.appeal, name="appeal"),
    path("inspections/<int:inspection_id>/decide/", views.decide, name="decide"),
    path("inspect/", views.inspect_ticket, name="inspect"),
    path("visits/<int:visit_id>/", views.visit, name="visit"),
]
