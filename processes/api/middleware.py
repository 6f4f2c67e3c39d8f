"""Bounds checked before a view runs, answered in the API's JSON error format."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse


class ApiRequestLimitsMiddleware:
    """A body declared larger than DATA_UPLOAD_MAX_MEMORY_SIZE under /api/ is a 413 without reading it.

    Bodies sent without Content-Length are bounded by the parser as they are read (core.api.parsers).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return JsonResponse(
                    {"code": "parse_error", "detail": "Content-Length is not a number."}, status=400
                )
            if limit is not None and length > limit:
                return JsonResponse(
                    {"code": "request_too_large", "detail": f"The request body exceeds {limit} bytes."},
                    status=413,
                )
        return self.get_response(request)
