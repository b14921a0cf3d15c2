"""Screenshots on articles, under the ticket attachments' rules: an allow-list of image types
whose contents must match their extension, the desk's size limit, a random storage name, the
sanitised original name as metadata only, and downloads only through a permission check."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from tickets.services import attachment_clean_filename

from .choices import ArticleEventKind
from .events import article_event_record
from .models import Article, ArticleAttachment, can_write

IMAGE_SIGNATURES = {
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
}


@transaction.atomic
def article_attachment_add(
    *, article: Article, actor: User, upload: UploadedFile
) -> ArticleAttachment:
    """Attach a screenshot to an article. Guards: the actor may write the article; a PNG, JPEG,
    GIF or WebP whose first bytes match; not empty, within ATTACHMENT_MAX_BYTES. Logged as an
    edit. The file written is removed again if the database part fails."""
    if not can_write(article, actor):
        raise PermissionDenied(_("You may not edit this article."))
    if upload is None or not upload.size:
        raise ValidationError({"file": [_("The file is empty.")]})
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": [_("The file is too large.")]})
    filename = attachment_clean_filename(upload.name)
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension not in IMAGE_SIGNATURES:
        raise ValidationError({"file": [_("Attach screenshots: PNG, JPEG, GIF or WebP.")]})
    content_type, signatures = IMAGE_SIGNATURES[extension]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not head.startswith(signatures) or (extension == "webp" and head[8:12] != b"WEBP"):
        raise ValidationError({"file": [_("The contents of the file do not match its type.")]})
    attachment = ArticleAttachment(
        article=article,
        uploaded_by=actor,
        storage_key=secrets.token_hex(16),
        filename=filename,
        content_type=content_type,
        size=upload.size,
    )
    attachment.file.save(attachment.storage_key, upload, save=False)
    try:
        attachment.save()
        article_event_record(
            article=article,
            kind=ArticleEventKind.EDITED,
            actor=actor,
            data={"fields": ["attachments"], "file": filename},
        )
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment
