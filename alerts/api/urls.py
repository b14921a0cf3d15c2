"""Receivers of the alerts app, included under /api/ by servicedesk/api_urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path(
        "integrations/alertmanager/",
        views.alertmanager_receiver,
        name="alerts-alertmanager",
    ),
    path("integrations/grafana/", views.grafana_receiver, name="alerts-grafana"),
    path(
        "integrations/webhook/<slug:slug>/",
        views.signed_webhook_receiver,
        name="alerts-webhook",
    ),
]
