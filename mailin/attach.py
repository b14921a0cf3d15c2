"""Attachments and inline images of a message, through the ticket attachment service.

Every file goes through `tickets.services.attachment_add`, so the desk's one set of limits
applies (size, allow-listed types, contents matching the type); what it refuses is listed on
the ticket as not kept, with the service's own reason. TNEF (`winmail.dat`, Outlook's rich
text wrapper) is unpacked with `tnefparse`; one it cannot read is offered as it is.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from tickets.models import Comment
from tickets.services import attachment_add

from .parse import Part, decode_bytes

logger = logging.getLogger(__name__)

MAX_ATTACHMENTS = 50


def is_tnef(part: Part) -> bool:
    return part.content_type == "application/ms-tnef" or part.filename.lower() == "winmail.dat"


def unpack_tnef(part: Part) -> tuple[list[Part], str]:
    """The files and the plain-text body inside a TNEF part; ([part], "") if unreadable."""
    try:
        from tnefparse import TNEF

        tnef = TNEF(part.content, do_checksum=False)
        files = [
            Part(
                filename=(a.long_filename() or a.name or "attachment").strip("\x00"),
                content_type="application/octet-stream",
                content=bytes(a.data or b""),
            )
            for a in tnef.attachments
        ]
        body = tnef.body or b""
        text = body if isinstance(body, str) else decode_bytes(body)
        return files, text.replace("\x00", "")
    except Exception as exc:  # a malformed TNEF stream: keep the original file instead
        logger.info("winmail.dat could not be unpacked: %s", type(exc).__name__)
        return [part], ""


def expand(parts: list[Part]) -> tuple[list[Part], str]:
    """TNEF parts replaced by their contents; also the TNEF body text, if any."""
    out: list[Part] = []
    tnef_text = ""
    for part in parts:
        if is_tnef(part):
            files, text = unpack_tnef(part)
            out.extend(files)
            tnef_text = tnef_text or text
        else:
            out.append(part)
    return out, tnef_text


def add_attachments(
    *, ticket_id: int, actor: User, parts: list[Part], comment: Comment | None = None
) -> list[dict]:
    """Attach every part; return what was not kept as [{name, size, reason}]."""
    not_kept: list[dict] = []
    for index, part in enumerate(parts):
        if index >= MAX_ATTACHMENTS:
            not_kept.append(
                {
                    "name": part.filename,
                    "size": len(part.content),
                    "reason": f"more than {MAX_ATTACHMENTS} attachments in one message",
                }
            )
            continue
        upload = SimpleUploadedFile(part.filename, part.content, part.content_type)
        try:
            attachment_add(ticket_id=ticket_id, actor=actor, upload=upload, comment=comment)
        except ValidationError as exc:
            not_kept.append(
                {"name": part.filename, "size": len(part.content), "reason": _reason(exc)}
            )
        except PermissionDenied as exc:
            not_kept.append({"name": part.filename, "size": len(part.content), "reason": str(exc)})
    return not_kept


def _reason(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(m for messages in exc.message_dict.values() for m in messages)
    return " ".join(exc.messages)


def not_kept_text(not_kept: list[dict]) -> str:
    """The list appended to the ticket's text (the sender's file names, cleaned)."""
    if not not_kept:
        return ""
    lines = [f"- {item['name']} ({item['size']} bytes): {item['reason']}" for item in not_kept]
    return "\n\n[Attachments not kept / 未保存的附件]\n" + "\n".join(lines)
