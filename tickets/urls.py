"""Web URLs of the ticket core (included at /tickets/ by servicedesk/urls.py)."""

from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path(
        "attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment_download",
    ),
]
