"""Writes of people's own settings."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import User


def user_preferences_update(*, user: User, language: str, time_zone: str) -> User:
    """Set the language messages are written in and the zone times are shown in (empty: the
    desk's default). Guards: a language the desk ships, a known IANA time zone."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": [_("Choose a language the desk offers.")]})
    if time_zone:
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": [_("Unknown time zone.")]}) from exc
    user.language, user.time_zone = language, time_zone
    user.save(update_fields=["language", "time_zone"])
    return user
