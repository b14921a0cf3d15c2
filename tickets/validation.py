"""Cleaning text that people and integrations send: every channel goes through here."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH


def clean_text(value: str | None, *, field: str, max_length: int, required: bool) -> str:
    """Strip NUL bytes and outer white space; enforce presence and length.

    Script tags are kept as text: templates and the API always escape on output, so what the
    requester typed is stored exactly and never executed.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("Must be text.")]})
    # PostgreSQL cannot store NUL in text; lone surrogates come from broken UTF-8 decoding.
    value = value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8").strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > max_length:
        raise ValidationError(
            {
                field: [
                    _("At most %(max)d characters (this has %(length)d).")
                    % {"max": max_length, "length": len(value)}
                ]
            }
        )
    return value


def clean_title(value: str | None) -> str:
    return clean_text(value, field="title", max_length=TITLE_MAX_LENGTH, required=True)


def clean_body(value: str | None, *, field: str = "description", required: bool = False) -> str:
    return clean_text(value, field=field, max_length=TEXT_MAX_LENGTH, required=required)
