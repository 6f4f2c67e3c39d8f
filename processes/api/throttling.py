"""Per-token throttling that lets requests through while its shared cache (Redis) is unreachable.

The counters live in the cache so that every web process counts alike; when the cache cannot be
reached, refusing every request would turn a Redis outage into an API outage (every answer a 500 or a
429). A bank's integrations matter more than the rate limit for the minutes Redis is away, so the
request passes and the outage is logged (once per process and minute, not once per request).
"""

from __future__ import annotations

import logging
import time

from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)
_LOG_EVERY_SECONDS = 60
_last_logged = 0.0


class ResilientUserRateThrottle(UserRateThrottle):
    def allow_request(self, request, view):
        global _last_logged
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache backend's own error types differ (redis, memcached, files)
            now = time.monotonic()
            if now - _last_logged > _LOG_EVERY_SECONDS:
                _last_logged = now
                logger.warning("throttle cache unreachable, not throttling: %s", exc)
            return True
