"""Schema post-processing: every POST documents the `Idempotency-Key` header it accepts and the
answers that header can bring (409 `idempotency_key_in_progress`, 422 `idempotency_key_reused`)."""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Any unique string (e.g. a UUID). The same key with the same request replays the first answer; "
        "with another body it is 422 `idempotency_key_reused`; kept 24 hours per token."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def idempotency_key_on_posts(result, generator, request, public):
    for item in result.get("paths", {}).values():
        operation = item.get("post")
        if operation is None:
            continue
        operation.setdefault("parameters", []).append(HEADER)
        responses = operation.setdefault("responses", {})
        responses.setdefault(
            "409",
            {
                "description": "A request with this Idempotency-Key is still running (`idempotency_key_in_progress`).",
                "content": {"application/json": {"schema": ERROR}},
            },
        )
        responses.setdefault(
            "422",
            {
                "description": "This Idempotency-Key was used with another request (`idempotency_key_reused`).",
                "content": {"application/json": {"schema": ERROR}},
            },
        )
    return result
