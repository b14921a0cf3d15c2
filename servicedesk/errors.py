"""Error answers that keep the API's promise: JSON on /api/, pages everywhere else.

Django answers some failures before any API view runs, or after DRF gave up on them, with its
own HTML pages: too many form fields or a body over the upload limit (read by the CSRF check
or a parser), and any unexpected exception (a 500). An API client must get JSON with a
`detail` instead, and a database outage is a 503 with `Retry-After`, not a 500: the client
should retry, and nothing is wrong with its request.

Nothing here imports a domain app: these run when the rest of the desk may be failing.
"""

from __future__ import annotations

import logging
import sys
import time

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger("servicedesk.errors")

API_PREFIX = "/api/"
#: Seconds a client is told to wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER = 10


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def api_error(detail: str, status: int, **headers: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def request_error(exc: BaseException | None) -> JsonResponse:
    """The JSON answer to a request Django refused while reading it (400 or 413)."""
    if isinstance(exc, RequestDataTooBig):
        return api_error(_("The request body is too large."), 413)
    if isinstance(exc, TooManyFieldsSent):
        return api_error(_("The request has too many fields."), 400)
    if isinstance(exc, TooManyFilesSent):
        return api_error(_("The request has too many files."), 400)
    return api_error(_("Bad request."), 400)


def is_database_outage(exc: BaseException | None) -> bool:
    """The database cannot be reached (connection refused, lost, server shutting down).

    Only the connection-level errors: an IntegrityError or a bad query is a bug or a
    conflict, not an outage, and stays a 500 (or the view's own answer).
    """
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    )


class _OutageLog:
    """Log a database outage once, then once a minute with how many requests it refused."""

    every_seconds = 60.0

    def __init__(self) -> None:
        self.last = 0.0
        self.refused = 0

    def record(self, exc: BaseException) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self.last >= self.every_seconds:
            logger.error(
                "database unreachable, API answering 503 (%d requests since last report): %s",
                self.refused,
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            )
            self.last = now
            self.refused = 0


outage_log = _OutageLog()


def database_unavailable(exc: BaseException) -> JsonResponse:
    outage_log.record(exc)
    return api_error(
        _("The service is temporarily unavailable. Try again shortly."),
        503,
        Retry_After=str(DATABASE_RETRY_AFTER),
    )


def bad_request(request: HttpRequest, exception: BaseException, **kwargs) -> HttpResponse:
    """handler400: JSON on the API, Django's page elsewhere."""
    if is_api(request):
        return request_error(exception)
    return defaults.bad_request(request, exception, **kwargs)


def server_error(request: HttpRequest, **kwargs) -> HttpResponse:
    """handler500: called while the exception is being handled, so sys.exc_info() has it."""
    if is_api(request):
        exc = sys.exc_info()[1]
        if is_database_outage(exc):
            return database_unavailable(exc)
        return api_error(_("A server error occurred."), 500)
    return defaults.server_error(request, **kwargs)
