"""Shared API pieces every app's `api/` uses: one JSON error shape for every failure, ids from
URLs that never reach the database as a bad query, input validation, and the documented error
answers of an action endpoint. Nothing here knows a domain app."""

import copy

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

# PostgreSQL's bigint: larger ids cannot exist, and must not reach the database as a query.
MAX_ID = 2**63 - 1


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "request_too_large"


def exception_handler(exc, context):
    """Turn Django's own exceptions into DRF ones so every error is JSON with field messages."""
    if isinstance(exc, RequestDataTooBig):
        # A body over DATA_UPLOAD_MAX_MEMORY_SIZE: Django's own answer would be an HTML 400.
        exc = RequestTooLarge()
    elif isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            detail = exc.message_dict
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response


def conflict(detail: str, **extra) -> Response:
    return Response({"detail": detail, **extra}, status=status.HTTP_409_CONFLICT)


def parse_id(value) -> int:
    """An id from the URL; anything that cannot be one is a 404, never a database error."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or int(text) > MAX_ID or int(text) < 1:
        raise exceptions.NotFound()
    return int(text)


def validated(serializer_class, request: Request, data=None) -> dict:
    """The input serializer's validated data, or a 400 with its field messages."""
    serializer = serializer_class(
        data=request.data if data is None else data, context={"request": request}
    )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class InputSerializer(serializers.Serializer):
    """An input serializer whose fields are copied shallowly for each request.

    DRF deep-copies every declared field for every serializer instance (each field is rebuilt
    from its arguments, its queryset cloned, its choices copied): for the ten fields of a new
    ticket that was most of the input's validation time (docs/benchmarks.md, "Ticket core").
    Binding a field to its serializer only sets attributes on the copy, and a related field
    re-reads its queryset (`.all()`) on every use, so a shallow copy per request is enough.
    Fields holding other fields (nested serializers, list children) are still deep-copied:
    their inner field is bound to its parent."""

    def get_fields(self):
        return {
            name: (
                copy.deepcopy(field)
                if isinstance(field, serializers.BaseSerializer)
                or hasattr(field, "child")
                or hasattr(field, "child_relation")
                else shallow_copy(field)
            )
            for name, field in self._declared_fields.items()
        }


def shallow_copy(field):
    """What `copy.copy(field)` makes (a new instance sharing the attributes' values), without
    the pickling protocol's detour `copy.copy` takes for it: a third of the time. DRF's fields
    define no `__copy__`, `__reduce__` or `__setstate__` that copy.copy would honour."""
    duplicate = object.__new__(type(field))
    duplicate.__dict__.update(field.__dict__)
    return duplicate


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    allowed = serializers.ListField(child=serializers.CharField(), required=False)


ERRORS = {
    400: OpenApiResponse(description=gettext_lazy("Field messages: {field: [message, ...]}.")),
    403: OpenApiResponse(ErrorSerializer, description=gettext_lazy("Not allowed for you.")),
    404: OpenApiResponse(
        ErrorSerializer, description=gettext_lazy("No such ticket that you may see.")
    ),
}


def action_responses(ok) -> dict:
    """The documented answers of an action endpoint (POST .../{id}/<action>/): `ok` with 200,
    the field, permission and visibility errors, and 409 for an impossible or concurrent
    change."""
    return {
        200: ok,
        **ERRORS,
        409: OpenApiResponse(
            ConflictSerializer,
            description=gettext_lazy(
                "Not possible from the ticket's status (`allowed` lists what is), or someone "
                "else changed the ticket at the same moment."
            ),
        ),
    }
