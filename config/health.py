"""Liveness and readiness probes for load balancers and orchestrators."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery_app import app as celery_app


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}


def _check_broker() -> dict:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True, "transport": conn.transport_cls}
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}


def _check_heartbeat() -> dict:
    from departments.models import Heartbeat

    try:
        beat = Heartbeat.objects.filter(name=Heartbeat.WORKER).first()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    if beat is None:
        return {"ok": False, "last": None, "age_seconds": None}
    age = (timezone.now() - beat.beat_at).total_seconds()
    return {
        "ok": age <= settings.HEARTBEAT_MAX_AGE_SECONDS,
        "last": beat.beat_at.isoformat(),
        "age_seconds": round(age, 1),
        "count": beat.count,
    }


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Database and broker decide readiness; a stale heartbeat is reported but does not fail web."""
    checks = {"database": _check_database(), "broker": _check_broker(), "heartbeat": _check_heartbeat()}
    ready = checks["database"]["ok"] and checks["broker"]["ok"]
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
