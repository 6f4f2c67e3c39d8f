"""The one place where errors become HTTP: domain errors and DRF's own exceptions, as JSON.

Every error body is `{"code": <stable machine-readable>, "detail": <human>}`; a 400 adds `fields`
(field name → messages, `non_field_errors` for the whole input) and a 429 `retry_after` (seconds).
Domain errors (core.errors.ApplicationError) carry their code and status; DRF exceptions keep
DRF's codes (`not_authenticated`, `permission_denied`, `not_found`, `throttled`, …).
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from core.errors import ApplicationError


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF error details (nested dicts and lists) → {"field" or "parent.child": [messages]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def _body(code: str, detail: str, status: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    extra = dict(extra or {})
    body: dict[str, Any] = {"code": code, "detail": detail}
    fields = extra.pop("fields", None) or {}
    if status == 400:
        body["fields"] = {
            str(name): [str(m) for m in (messages if isinstance(messages, list | tuple) else [messages])]
            for name, messages in fields.items()
        }
    for key, value in extra.items():
        body.setdefault(key, value)
    return body


def translated_detail(code: str, detail: str) -> str:
    """`detail` in the request's language (`core.messages`)."""
    from core.messages import translated

    return translated(code, detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: anything not handled here is a real 500."""
    if isinstance(exc, ApplicationError):
        set_rollback()
        detail = translated_detail(exc.code, exc.message)
        return Response(_body(exc.code, detail, exc.status, exc.extra), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        # A model-level check (full_clean, a lookup value the field cannot parse) is bad input too.
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        code, detail = "invalid", translated_detail("invalid", "Invalid input.")
        extra["fields"] = _flatten(exc.detail)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        detail = translated_detail(code, str(exc.detail))
    if isinstance(exc, exceptions.Throttled):
        wait = math.ceil(exc.wait) if exc.wait is not None else 1
        headers["Retry-After"] = str(wait)
        extra["retry_after"] = wait
    set_rollback()
    return Response(_body(code, detail, exc.status_code, extra), status=exc.status_code, headers=headers)


# -- URLs that match no view, and crashes, under /api/ answer JSON too (config/urls.py handler404/500)
def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception | None = None):
    if _is_api(request):
        return JsonResponse({"code": "bad_request", "detail": "Bad request.", "fields": {}}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None):
    if _is_api(request):
        return JsonResponse({"code": "permission_denied", "detail": "Permission denied."}, status=403)
    return defaults.permission_denied(request, exception)


@csrf_exempt  # like every API view: a POST to a wrong URL is a 404, not a CSRF page
def api_not_found(request: HttpRequest, path: str = ""):
    """The last /api/ URL pattern: JSON 404 in every settings mode, DEBUG included (whose own 404
    page is HTML and never reaches handler404)."""
    return JsonResponse(
        {"code": "not_found", "detail": translated_detail("not_found", "Not found.")}, status=404
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None):
    if _is_api(request):
        return JsonResponse(
            {"code": "not_found", "detail": translated_detail("not_found", "Not found.")}, status=404
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest):
    if _is_api(request):
        detail = translated_detail("server_error", "Server error.")
        return JsonResponse({"code": "server_error", "detail": detail}, status=500)
    return defaults.server_error(request)


# -- OpenAPI ----------------------------------------------------------------------------------------
class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable, e.g. `handoff_not_pending`.")
    detail = serializers.CharField(help_text="For humans; may change.")


class ValidationErrorSerializer(ErrorSerializer):
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name → messages; `non_field_errors` for the input as a whole.",
    )


class ThrottledErrorSerializer(ErrorSerializer):
    retry_after = serializers.IntegerField(help_text="Seconds until a request may be sent again.")


_DESCRIPTIONS = {
    400: "Invalid input: `fields` says which and why.",
    401: "No or an invalid `Authorization: Token <key>` (or session).",
    403: "Authenticated, but the caller's department may not do this (e.g. `not_your_department`).",
    404: "Not found, or outside the caller's department scope.",
    409: "The state does not allow this now (e.g. `handoff_not_pending`, `case_not_resolved`).",
    429: "Too many requests for this token; retry after `retry_after` seconds.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """extend_schema(responses=...) entries for the error statuses an endpoint can answer."""
    out = {}
    for status in statuses:
        serializer: type[serializers.Serializer] = ErrorSerializer
        if status == 400:
            serializer = ValidationErrorSerializer
        elif status == 429:
            serializer = ThrottledErrorSerializer
        out[status] = OpenApiResponse(serializer, description=_DESCRIPTIONS[status])
    return out


READ_ERRORS = (400, 401, 404, 429)
LIST_ERRORS = (400, 401, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 429)
