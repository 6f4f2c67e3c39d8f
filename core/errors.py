"""Domain errors shared by every app; the API maps them to HTTP statuses in one place."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule said no. `code` is stable and machine-readable."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}


class InvalidInput(ApplicationError):
    code = "invalid"
    status = 400


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403


class NotFound(ApplicationError):
    code = "not_found"
    status = 404


class StateConflict(ApplicationError):
    code = "state_conflict"
    status = 409


def field_error(field: str, message: str, code: str = "invalid") -> InvalidInput:
    """A 400 that names one bad field (the API shows `fields`, the admin the message)."""
    return InvalidInput(message, code=code, extra={"fields": {field: [message]}})
