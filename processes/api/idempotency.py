"""`Idempotency-Key` on every POST under /api/, with Stripe's semantics.

The first request with a key (per credential: a hash of the `Authorization` header, or the session's
user) claims it by inserting a row before the view runs; the answer (status, content type, bytes) is
stored with it. The same key again:
- with the same method, path and body: the stored answer, byte for byte (`Idempotent-Replayed: true`);
- with another body or path: 422 `idempotency_key_reused`;
- while the first is still running: waits up to `BATON_IDEMPOTENCY_WAIT_SECONDS` for its answer,
  then 409 `idempotency_key_in_progress`.
A 5xx, or a request that never reached the view's answer (401, 429), is not stored: the key can be
used again; so is a key whose first request died unanswered (after five minutes). Keys are purged after `BATON_IDEMPOTENCY_HOURS` (beat: `purge-idempotency-keys`).
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from processes.models import IdempotencyKey

HEADER = "HTTP_IDEMPOTENCY_KEY"
# What the schema says a key is (processes/api/openapi.py): visible ASCII, no spaces.
_PRINTABLE = re.compile(r"[!-~]+")
NOT_STORED = {401, 429}
# Longer than any request may run (gunicorn's timeout): an unanswered claim this old is abandoned.
STALE = timedelta(minutes=5)


def _owner(request: HttpRequest) -> str | None:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth:
        return hashlib.sha256(auth.encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return hashlib.sha256(f"session:{user.pk}".encode()).hexdigest()
    return None


def _error(status: int, code: str, detail: str) -> JsonResponse:
    from core.api.errors import translated_detail

    body = {"code": code, "detail": translated_detail(code, detail)}
    if status == 400:  # every 400 names what was wrong
        body["fields"] = {"Idempotency-Key": [body["detail"]]}
    return JsonResponse(body, status=status)


class IdempotencyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.META.get(HEADER)
        if request.method != "POST" or key is None or not request.path.startswith("/api/"):
            return self.get_response(request)
        owner = _owner(request)
        if owner is None:
            return self.get_response(request)  # unauthenticated: the view answers 401
        if not 1 <= len(key) <= 255 or not _PRINTABLE.fullmatch(key):
            return _error(
                400,
                "invalid_idempotency_key",
                "The Idempotency-Key must have 1 to 255 printable ASCII characters, without spaces.",
            )
        fingerprint = hashlib.sha256(
            request.method.encode() + b" " + request.path.encode() + b"\n" + request.body
        ).hexdigest()
        # A key past its retention counts as unseen even before the hourly purge removes it.
        IdempotencyKey.objects.filter(owner=owner, key=key, created_at__lt=timezone.now() - _kept()).delete()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(owner=owner, key=key, fingerprint=fingerprint)
        except IntegrityError:
            return self._again(owner, key, fingerprint)
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyKey.objects.filter(pk=row.pk).delete()
            raise
        if response.status_code >= 500 or response.status_code in NOT_STORED or response.streaming:
            IdempotencyKey.objects.filter(pk=row.pk).delete()
            return response
        IdempotencyKey.objects.filter(pk=row.pk).update(
            done=True,
            status=response.status_code,
            content_type=response.get("Content-Type", ""),
            body=bytes(response.content),
        )
        return response

    def _again(self, owner: str, key: str, fingerprint: str) -> HttpResponse:
        deadline = time.monotonic() + settings.BATON_IDEMPOTENCY_WAIT_SECONDS
        while True:
            row = IdempotencyKey.objects.filter(owner=owner, key=key).first()
            if row is None:  # the first request failed and let the key go
                return _error(
                    409, "idempotency_key_in_progress", "Retry: the first request with this key failed."
                )
            if row.fingerprint != fingerprint:
                return _error(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with another request; use a new key.",
                )
            if row.done:
                replay = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type)
                replay["Idempotent-Replayed"] = "true"
                return replay
            if row.created_at < timezone.now() - STALE:
                # The first request's process died before answering: free the key for a retry.
                IdempotencyKey.objects.filter(pk=row.pk, done=False).delete()
                return _error(
                    409,
                    "idempotency_key_in_progress",
                    "A request with this Idempotency-Key is still running.",
                )
            if time.monotonic() >= deadline:
                return _error(
                    409,
                    "idempotency_key_in_progress",
                    "A request with this Idempotency-Key is still running.",
                )
            time.sleep(0.05)


def _kept() -> timedelta:
    return timedelta(hours=settings.BATON_IDEMPOTENCY_HOURS)


def idempotency_keys_purge(*, now=None, batch: int = 5000) -> int:
    """Delete keys older than the retention, in bounded batches; rerun-safe."""
    cutoff = (now or timezone.now()) - _kept()
    deleted = 0
    while True:
        ids = list(IdempotencyKey.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]
