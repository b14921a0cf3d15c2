"""Every app's API under /api/ (each app keeps its own `api/urls.py`)."""

from django.urls import include, path
from rest_framework.authtoken.views import obtain_auth_token

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("", include("tickets.api.urls")),
    path("", include("routing.api.urls")),
    path("", include("sla.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("knowledge.api.urls")),
]
