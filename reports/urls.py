from django.urls import path

from . import metrics, views

app_name = "reports"

urlpatterns = [
    path("", views.report, name="home"),
    path("<slug:page>/", views.report, name="page"),
]

metrics_urlpatterns = [path("metrics", metrics.metrics_view, name="metrics")]
