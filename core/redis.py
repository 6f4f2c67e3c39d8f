"""Redis clients kept per process, one per URL, with short timeouts.

Django's Redis cache builds a new client for every operation, and building one costs more CPU time
than the round trip it makes; the throttle and the delivery nudges talk to Redis on every API call,
so they keep theirs here. A second of timeout: an unreachable Redis must cost a request little."""

from __future__ import annotations

import redis

_clients: dict[str, redis.Redis] = {}


def client(url: str) -> redis.Redis:
    found = _clients.get(url)
    if found is None:
        found = _clients[url] = redis.Redis.from_url(
            url, socket_connect_timeout=1, socket_timeout=1, health_check_interval=30
        )
    return found
