"""Every app's API under /api/ (each app keeps its own `api/urls.py`)."""

from django.urls import include, path

from accounts.views import obtain_token

urlpatterns = [
    path("auth/token/", obtain_token, name="api-token"),
    path("", include("tickets.api.urls")),
    path("", include("routing.api.urls")),
    path("", include("sla.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("mailin.api.urls")),
    path("", include("feedback.api.urls")),
    path("", include("servicecatalog.api.urls")),
    path("", include("alerts.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("knowledge.api.urls")),
]
