"""URLs of the SLA API, included under /api/ by servicedesk/api_urls.py."""

from django.urls import path

from .views import ComplianceView, TicketTimersView

urlpatterns = [
    path(
        "sla/tickets/<int:ticket_id>/timers/",
        TicketTimersView.as_view(),
        name="api-sla-ticket-timers",
    ),
    path("sla/compliance/", ComplianceView.as_view(), name="api-sla-compliance"),
]
