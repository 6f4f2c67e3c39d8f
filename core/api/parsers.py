"""Request parsing with bounds: a JSON body may nest only so deep and be only so large.

Python's json module recurses once per level, so a body of a few thousand `[` raises RecursionError,
which DRF's JSONParser does not catch (a 500). Real payloads of this API nest three levels at most.
The size limit is Django's DATA_UPLOAD_MAX_MEMORY_SIZE, checked against what is actually read, so a
chunked body without Content-Length is bounded too (processes.api.middleware checks the header first).
"""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


class RequestTooLarge(ParseError):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _depth_exceeds(data, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if _depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels")
        return data


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON (RFC 8259); DRF's strict mode refuses them too.
    raise ValueError(f"{name} is not valid JSON")
