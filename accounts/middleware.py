"""Each signed-in person's own time zone and language (their profile), for every request."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation


class UserPreferencesMiddleware:
    """Activate the viewer's time zone (times are shown, and labelled, in it) and, unless they
    chose a language with the switcher in this browser, their profile's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = None
        if user is not None and user.is_authenticated:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.preferred_time_zone()))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.activate(zoneinfo.ZoneInfo(settings.TIME_ZONE))
            if user.language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
                language = user.language
                request.LANGUAGE_CODE = language
        try:
            if language is None:
                return self.get_response(request)
            # For this request only: the thread's language is restored afterwards.
            with translation.override(language):
                return self.get_response(request)
        finally:
            timezone.deactivate()
