"""URLs of the catalogue API, included under /api/ by servicedesk/api_urls.py."""

from django.urls import path

from .views import ServiceDetailView, ServiceListView, ServiceRequestCreateView, TicketAnswersView

urlpatterns = [
    path("catalogue/services/", ServiceListView.as_view(), name="api-catalogue-services"),
    path(
        "catalogue/services/<slug:code>/", ServiceDetailView.as_view(), name="api-catalogue-service"
    ),
    path(
        "catalogue/services/<slug:code>/requests/",
        ServiceRequestCreateView.as_view(),
        name="api-catalogue-request",
    ),
    path(
        "catalogue/requests/<str:number>/",
        TicketAnswersView.as_view(),
        name="api-catalogue-answers",
    ),
]
