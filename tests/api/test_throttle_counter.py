"""The throttle's counter on Redis, as production runs it: a budget per token shared by every web
process (one counter in Redis), a JSON 429 that says when the window ends, and the count starting
afresh once the window is over."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from rest_framework.throttling import UserRateThrottle

from processes.api import throttling
from tests.real_worker import redis_url

from .conftest import assert_error

pytestmark = pytest.mark.django_db

REDIS_DB = 7  # a database of its own: the test flushes it


@pytest.fixture
def redis_cache():
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL)")
    url = redis_url(REDIS_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    with override_settings(CACHES={"default": {"BACKEND": throttling._REDIS_CACHE, "LOCATION": url}}):
        yield client
    client.flushdb()


def test_a_tokens_budget_is_one_counter_in_redis(api, org, redis_cache, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min"})
    call, card = api("call_center_agent"), api("card_center_agent")

    statuses = [call.get("/api/v1/processes/").status_code for _ in range(4)]
    throttled = call.get("/api/v1/processes/")

    assert statuses == [200, 200, 200, 429]
    body = assert_error(throttled, 429, "throttled")
    assert 0 < body["retry_after"] <= 60
    assert int(throttled["Retry-After"]) == body["retry_after"]
    assert card.get("/api/v1/processes/").status_code == 200
    counters = {key.decode(): int(redis_cache.get(key)) for key in redis_cache.scan_iter("baton:throttle:*")}
    assert sorted(counters.values()) == [1, 5]
    assert all(0 < redis_cache.ttl(key) <= 60 for key in counters)


def test_the_count_starts_afresh_when_the_window_ends(api, org, redis_cache, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/s"})
    call = api("call_center_agent")
    call.get("/api/v1/processes/")  # the token's key, looked up once before the window starts
    redis_cache.flushdb()

    first = [call.get("/api/v1/processes/").status_code for _ in range(3)]
    time.sleep(1.2)  # Redis expires the window's counter

    assert first == [200, 200, 429]
    assert call.get("/api/v1/processes/").status_code == 200
