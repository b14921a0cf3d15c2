"""Uploading the files of a form through `tickets.services.attachment_add`, one by one.

A refused file (type, size, contents) does not undo the reply or the request it came with:
the person is told which file was refused and why.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tickets.models import Comment, Ticket
from tickets.services import attachment_add


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
