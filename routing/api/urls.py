"""URLs of the routing API, included under /api/ by servicedesk/api_urls.py."""

from django.urls import path

from .views import ClassifyView, DispatchToOwnerView

urlpatterns = [
    path("tickets/<str:pk>/classify/", ClassifyView.as_view(), name="api-ticket-classify"),
    path(
        "tickets/<str:pk>/dispatch-to-owner/",
        DispatchToOwnerView.as_view(),
        name="api-ticket-dispatch-to-owner",
    ),
]
