"""Web pieces of the ticket core shared by the portal and the workspace: file downloads and
uploads.

Attachments live under MEDIA_ROOT, which no URL serves; the only way to a file is this view
(and the API's), after the same visibility check as the ticket itself. Uploads of a form go
through `tickets.services.attachment_add` one by one: a refused file (type, size, contents)
does not undo the reply or the request it came with; the person is told which file was
refused and why.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import selectors
from .models import Attachment, Comment, Ticket
from .services import attachment_add


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


def attach_files(
    request: HttpRequest,
    ticket: Ticket,
    uploads: list,
    *,
    comment: Comment | None = None,
    is_internal: bool = False,
) -> int:
    added = 0
    for upload in uploads:
        try:
            attachment_add(
                ticket_id=ticket.pk,
                actor=request.user,
                upload=upload,
                is_internal=is_internal,
                comment=comment,
            )
            added += 1
        except ValidationError as exc:
            messages.error(
                request,
                _("%(name)s was not attached: %(reason)s")
                % {"name": upload.name, "reason": " ".join(exc.messages)},
            )
    return added
