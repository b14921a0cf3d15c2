"""The receivers: Alertmanager, Grafana and the signed JSON webhook.

Plain Django views (no session, no CSRF: the sender authenticates every request) because the
status code is the contract with the sender: 2xx once stored; 4xx only for what can never
succeed (401 bad credentials, 400 malformed or unknown version, 413 over 2 MB); 5xx only for
transient faults, so the sender retries — and a retry never duplicates a ticket.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tickets.exceptions import ConcurrentModification

from .. import services
from ..choices import IntegrationKind
from ..models import Integration
from ..payloads import PayloadError, parse_alertmanager, parse_grafana, parse_signed_webhook

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
SIGNATURE_HEADER = "X-Desk-Signature"


def _error(status: int, errors: dict, **headers) -> JsonResponse:
    response = JsonResponse(
        {"errors": errors}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _unauthorized() -> JsonResponse:
    return _error(
        401,
        {"authorization": [_("A valid bearer token is required.")]},
        WWW_Authenticate='Bearer realm="servicedesk-alerts"',
    )


def _bearer(request: HttpRequest) -> str:
    scheme, _sep, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _read_body(request: HttpRequest) -> bytes | JsonResponse:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(400, {"non_field_errors": [_("Bad Content-Length.")]})
    too_big = _error(413, {"non_field_errors": [_("The payload is larger than 2 MB.")]})
    if declared > MAX_BODY_BYTES:
        return too_big
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return too_big
    return body


def _json(body: bytes):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError({"non_field_errors": [_("Not valid JSON: %(e)s") % {"e": exc}]}) from exc


def _store(integration: Integration, parse, body: bytes, idempotency_key: str) -> JsonResponse:
    try:
        incoming = parse(_json(body))
        result = services.delivery_receive(
            integration=integration, incoming=incoming, idempotency_key=idempotency_key
        )
    except PayloadError as exc:
        return _error(400, exc.errors)
    except ValidationError as exc:
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return _error(400, errors)
    except DataError as exc:
        return _error(400, {"non_field_errors": [str(exc).splitlines()[0]]})
    except (OperationalError, InterfaceError, IntegrityError, ConcurrentModification):
        # Transient (database unreachable, deadlock, serialisation): the sender must retry.
        logger.exception("alert delivery of %s not stored; asking the sender to retry", integration)
        return _error(503, {"non_field_errors": [_("Try again.")]}, Retry_After="5")
    return JsonResponse(result.as_json(), status=200)


def _bearer_receiver(request: HttpRequest, kind: str, parse) -> JsonResponse:
    integration = services.integration_authenticate(token=_bearer(request), kinds=(kind,))
    if integration is None:
        return _unauthorized()
    body = _read_body(request)
    if isinstance(body, JsonResponse):
        return body
    return _store(integration, parse, body, request.headers.get("Idempotency-Key", ""))


@csrf_exempt
@require_POST
def alertmanager_receiver(request: HttpRequest) -> JsonResponse:
    """Alertmanager `webhook_configs` receiver (payload version 4), bearer token."""
    return _bearer_receiver(request, IntegrationKind.ALERTMANAGER, parse_alertmanager)


@csrf_exempt
@require_POST
def grafana_receiver(request: HttpRequest) -> JsonResponse:
    """Grafana alerting webhook contact point, bearer token (Authorization header)."""
    return _bearer_receiver(request, IntegrationKind.GRAFANA, parse_grafana)


@csrf_exempt
@require_POST
def signed_webhook_receiver(request: HttpRequest, slug: str) -> JsonResponse:
    """The desk's JSON webhook for monitors and chat bots: `X-Desk-Signature: sha256=<HMAC>`
    of the raw body; `Idempotency-Key` (else the body's hash) makes a repeat a no-op."""
    integration = Integration.objects.filter(
        slug=slug, is_active=True, kind__in=(IntegrationKind.WEBHOOK, IntegrationKind.CHATBOT)
    ).first()
    body = _read_body(request)
    if isinstance(body, JsonResponse):
        return body if integration is not None else _unauthorized()
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if integration is None or not services.signature_valid(
        integration=integration, body=body, signature=signature
    ):
        return _error(
            401, {SIGNATURE_HEADER: [_("A valid HMAC-SHA256 signature of the body is required.")]}
        )
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        key = "body:" + hashlib.sha256(body).hexdigest()
    return _store(
        integration,
        lambda data: parse_signed_webhook(data, idempotency_key=key),
        body,
        key,
    )
