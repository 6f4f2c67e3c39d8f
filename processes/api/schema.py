"""What the OpenAPI schema adds to drf-spectacular's reading of the code, so that it says what the API
enforces: text patterns of the strict text fields, and the answers given before any view runs."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from core import bounds


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "core.bounds.StrictCharField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and "pattern" not in schema and "enum" not in schema:
            schema["pattern"] = (
                bounds.TEXT_PATTERN if self.target.allow_blank else bounds.NON_BLANK_TEXT_PATTERN
            )
        return schema


_ERROR = {"$ref": "#/components/schemas/Error"}


def add_transport_errors(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: every operation may answer 414 (a request line
    longer than the server takes, said by the server in plain HTML), and one with a body 413 (a body
    over DATA_UPLOAD_MAX_MEMORY_SIZE, processes.api.middleware, in the JSON error format)."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            responses.setdefault(
                "414",
                {
                    "description": "The request line (path and query) is longer than the server accepts.",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
            )
            if "requestBody" in operation:
                responses.setdefault(
                    "413",
                    {
                        "description": "The request body is larger than the server accepts.",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                )
    return result
