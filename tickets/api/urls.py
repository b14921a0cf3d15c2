"""URLs of the ticket API, included under /api/ by servicedesk/api_urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AttachmentDownloadView, TicketViewSet

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="api-ticket")

urlpatterns = [
    *router.urls,
    path(
        "attachments/<str:pk>/download/",
        AttachmentDownloadView.as_view(),
        name="api-attachment-download",
    ),
]
