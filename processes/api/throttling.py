"""Per-token throttling: a counter per token and window, shared by every web process, that lets
requests through while its store (Redis) is unreachable.

DRF's own throttle keeps the time of every request of the window in one cache value, read and written
back whole on each request: at an integration's rate that is thousands of timestamps pickled twice per
call, and two cache round trips. This one counts instead: one Redis round trip (a pipeline of SET NX
EX, INCR and TTL) per request. The window starts at a token's first request and lasts the rate's
period, so a token may make up to its rate within any one window (at most twice the rate across the
edge of two windows); the answer to a throttled request says when the window ends (Retry-After).

Other cache backends (files for `make run`, memory in tests) count with the cache's add and incr.

When the store cannot be reached, refusing every request would turn a Redis outage into an API outage
(every answer a 500 or a 429). A bank's integrations matter more than the rate limit for the minutes
Redis is away, so the request passes and the outage is logged (once per process and minute, not once
per request).
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import UserRateThrottle

from core.redis import client as redis_client

logger = logging.getLogger(__name__)
_LOG_EVERY_SECONDS = 60
_last_logged = 0.0
_REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def _redis() -> redis.Redis | None:
    """A client kept per process for the default cache's Redis (Django's cache builds a new client for
    each operation), or None when the cache is not Redis."""
    conf = settings.CACHES["default"]
    if conf["BACKEND"] != _REDIS_CACHE:
        return None
    return redis_client(conf["LOCATION"] if isinstance(conf["LOCATION"], str) else conf["LOCATION"][0])


def hit(key: str, period: int) -> tuple[int, float]:
    """Count one request under `key`; returns the count within the current window and the seconds
    left in it."""
    client = _redis()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        pipe.set(key, 0, ex=period, nx=True)
        pipe.incr(key)
        pipe.pttl(key)
        _, count, ttl_ms = pipe.execute()
        return int(count), max(ttl_ms, 0) / 1000
    now = time.time()
    if cache.add(key, 1, period):
        cache.set(f"{key}:ends", now + period, period)
        return 1, float(period)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, period)
        cache.set(f"{key}:ends", now + period, period)
        return 1, float(period)
    ends = cache.get(f"{key}:ends") or now + period
    return count, max(ends - now, 0.0)


class ResilientUserRateThrottle(UserRateThrottle):
    scope = "user"

    def allow_request(self, request, view) -> bool:
        global _last_logged
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        try:
            count, self._left = hit(f"baton:throttle:{ident}:{self.duration}", int(self.duration))
        except Exception as exc:  # the store's own error types differ (redis, memcached, files)
            now = time.monotonic()
            if now - _last_logged > _LOG_EVERY_SECONDS:
                _last_logged = now
                logger.warning("throttle store unreachable, not throttling: %s", exc)
            return True
        return count <= self.num_requests

    def wait(self) -> float | None:
        return max(self._left, 1.0)
