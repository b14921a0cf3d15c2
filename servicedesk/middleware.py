"""Request guards that run before any view: hostile input becomes a 4xx, outages a 503.

Nothing here imports a domain app (tickets, sla, ...): the middleware must work while those
are failing, and must not slow every request with their imports.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote_to_bytes

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.signals import setting_changed
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from .errors import api_error, database_unavailable, is_api, is_database_outage, request_error

NUL = "\x00"


def nul_query_fields(request: HttpRequest) -> list[str]:
    """The query parameters whose name or value holds a NUL character (raw or %-encoded).

    PostgreSQL cannot store or compare a string with NUL in it ("A string literal cannot
    contain NUL characters"), so a lookup by such a value was a 500 in every view that filters
    by a URL part. No valid address of the desk contains one.
    """
    query = request.META.get("QUERY_STRING", "")
    if b"\x00" not in unquote_to_bytes(query):
        return []
    fields = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name or NUL in value:
            label = name.replace(NUL, "\ufffd") or "query"
            if label not in fields:
                fields.append(label)
    return fields or ["query"]


class RequestGuardMiddleware:
    """Refuse addresses with NUL characters before any view or form reads them.

    In the path no page or object can match: 404, as for any unknown address. In the query:
    400, on the API with a message per parameter (as the filters' own field errors).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path:
            if is_api(request):
                return api_error(_("Not found."), 404)
            return defaults.page_not_found(request, Http404())
        fields = nul_query_fields(request)
        if fields:
            message = _("A NUL character is not allowed here.")
            if is_api(request):
                return JsonResponse({field: [message] for field in fields}, status=400)
            return defaults.bad_request(request, SuspiciousOperation(message))
        return self.get_response(request)


class ApiErrorMiddleware:
    """On /api/: a database outage is a JSON 503 with Retry-After; refused bodies are JSON.

    DRF re-raises what its exception handler does not know; without this Django would answer
    an HTML 500 (and log a full traceback per request for the length of an outage). Errors
    outside a view go to the handlers in servicedesk/errors.py.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_api(request):
            return None
        if is_database_outage(exception):
            return database_unavailable(exception)
        if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
            return request_error(exception)
        return None


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response (Django's SecurityMiddleware has no setting for it).

    The desk needs no camera, microphone, location, payment or sensor: a script that got in
    anyway cannot ask for them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy:
            response.headers.setdefault("Permissions-Policy", policy)
        return response


# What a view can set on its response to change django-csp's policy for that response.
PER_RESPONSE_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the settings' policy built once instead of per response.

    django-csp builds both headers from the settings on every response (a dataclass copied
    into a dict, every directive copied and joined, twice); on `POST /api/tickets/` that was
    the largest middleware cost (docs/benchmarks.md, "Ticket core"). The desk's policy has no
    nonce and no per-view changes, so the strings are the same for every response: they are
    kept until a setting changes. A response that carries its own policy (django-csp's
    decorators), a nonce used by a template, or a debug error page goes through django-csp
    unchanged.
    """

    _headers: tuple[str, str] | None = None

    @classmethod
    def forget_policy(cls, *, setting: str = "", **kwargs) -> None:
        if setting.startswith("CONTENT_SECURITY_POLICY"):
            cls._headers = None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in PER_RESPONSE_POLICY)
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        headers = ContentSecurityPolicyMiddleware._headers
        if headers is None:
            headers = ContentSecurityPolicyMiddleware._headers = (
                build_policy(),
                build_policy(report_only=True),
            )
        for header, value, setting in (
            (HEADER, headers[0], "CONTENT_SECURITY_POLICY"),
            (HEADER_REPORT_ONLY, headers[1], "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            if value and header not in response:
                excluded = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES")
                if not (excluded and request.path_info.startswith(tuple(excluded))):
                    response[header] = value
        # As django-csp: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


setting_changed.connect(
    ContentSecurityPolicyMiddleware.forget_policy, dispatch_uid="servicedesk.csp_policy"
)
