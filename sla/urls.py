"""Web URLs of the SLA engine (included at /workspace/dashboard/ by servicedesk/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
