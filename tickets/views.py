"""Web views of the ticket core shared by the portal and the workspace: file downloads.

Attachments live under MEDIA_ROOT, which no URL serves; the only way to a file is this view
(and the API's), after the same visibility check as the ticket itself.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from . import selectors
from .models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file as a download, never rendered inline: the stored content type (from the
    allow-list), `nosniff` so a browser does not guess another, and a sandbox in case it is
    opened anyway."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    try:
        attachment = selectors.attachment_get(viewer=request.user, attachment_id=attachment_id)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    return attachment_response(attachment)
