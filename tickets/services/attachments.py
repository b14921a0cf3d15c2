"""Files on tickets: an allow-list of types checked by content, generated storage names."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from accounts.models import User

from .. import permissions as perms
from ..choices import EventKind
from ..events import (
    event_record,
)
from ..models import Attachment, Comment
from .common import _lock

# The allow-list: extension -> the content type the file is stored and served with. What the
# client claims is ignored; SVG and HTML are left out because a browser would run their scripts.
ATTACHMENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "pdf": "application/pdf",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "md": "text/markdown",
    "json": "application/json",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip",
}


_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)


_ZIP = (b"PK\x03\x04", b"PK\x05\x06")


# The first bytes each binary type must start with, so a renamed executable is refused.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
    "bmp": (b"BM",),
    "pdf": (b"%PDF-",),
    "doc": _OLE,
    "xls": _OLE,
    "ppt": _OLE,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
    "zip": _ZIP,
}


ATTACHMENT_NAME_MAX_LENGTH = 120


def attachment_clean_filename(name: str | None) -> str:
    """A safe display name: no directories, no control characters, only word characters,
    dots and dashes, no leading dot, at most 120 characters with the extension kept."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    try:
        name = get_valid_filename(name)
    except SuspiciousFileOperation:
        name = ""
    name = name.lstrip(".")
    if len(name) > ATTACHMENT_NAME_MAX_LENGTH:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        keep = ATTACHMENT_NAME_MAX_LENGTH - len(ext) - len(dot)
        name = f"{(stem if dot else name)[:keep]}{dot}{ext}"
    return name or "attachment"


def _attachment_type(filename: str, upload: UploadedFile) -> str:
    """The stored content type, from the allow-list; refuses contents that do not match."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    content_type = ATTACHMENT_TYPES.get(extension)
    if content_type is None:
        raise ValidationError(
            {
                "file": [
                    _("Files of this type are not accepted. Allowed: %(types)s.")
                    % {"types": ", ".join(sorted(ATTACHMENT_TYPES))}
                ]
            }
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    signatures = _SIGNATURES.get(extension)
    if signatures is not None:
        matches = any(head.startswith(s) for s in signatures)
        if extension == "webp":
            matches = matches and head[8:12] == b"WEBP"
    else:
        matches = b"\x00" not in head  # text: a NUL byte means it is binary
    if not matches:
        raise ValidationError(
            {
                "file": [
                    _("The contents of the file do not match its type (.%(ext)s).")
                    % {"ext": extension}
                ]
            }
        )
    return content_type


def attachment_add(
    *,
    ticket_id: int,
    actor: User,
    upload: UploadedFile,
    is_internal: bool = False,
    comment: Comment | None = None,
) -> Attachment:
    """Attach a file to a ticket.

    Guards: the requester (public files only) or an agent working the ticket; the size at most
    `settings.ATTACHMENT_MAX_BYTES` and not empty; the type on the allow-list and the contents
    matching it. The file is stored under MEDIA_ROOT (outside the static root) with a random
    name; the sanitised original name is metadata only. Logs `ticket.attachment_added`
    (internal files are not on the requester's timeline). If the database part fails, the file
    written is removed again.
    """
    if upload is None:
        raise ValidationError({"file": [_("Choose a file.")]})
    filename = attachment_clean_filename(upload.name)
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is None or upload.size == 0:
        raise ValidationError({"file": [_("The file is empty.")]})
    if upload.size > limit:
        raise ValidationError(
            {
                "file": [
                    _("The file is too large: at most %(max)d bytes (this has %(size)d).")
                    % {"max": limit, "size": upload.size}
                ]
            }
        )
    content_type = _attachment_type(filename, upload)
    attachment = Attachment(
        uploaded_by=actor,
        storage_key=secrets.token_hex(16),
        filename=filename,
        content_type=content_type,
        size=upload.size,
        is_internal=is_internal,
        comment=comment,
    )
    try:
        with transaction.atomic():
            ticket = _lock(ticket_id)
            is_requester = perms.is_requester(ticket, actor)
            if is_requester and is_internal and not perms.works_on(ticket, actor):
                raise PermissionDenied(_("Requesters cannot add internal attachments."))
            if not is_requester and not perms.works_on(ticket, actor):
                raise PermissionDenied(_("You do not work on this ticket."))
            if comment is not None and comment.ticket_id != ticket.pk:
                raise ValidationError({"comment": [_("The comment is on another ticket.")]})
            attachment.ticket = ticket
            attachment.file.save(attachment.storage_key, upload, save=False)
            attachment.save(force_insert=True)
            event_record(
                ticket=ticket,
                kind=EventKind.ATTACHMENT_ADDED,
                actor=actor,
                new=filename,
                message=filename,
                is_public=not is_internal,
                data={
                    "attachment_id": attachment.pk,
                    "size": attachment.size,
                    "content_type": content_type,
                },
            )
    except BaseException:
        if attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment
