"""Repeated failures lock the account out with 429; sessions end after inactivity and a lifetime."""

import time

import pytest
from django.conf import settings
from django.test import override_settings

from departments.middleware import KEY

pytestmark = pytest.mark.django_db


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_login_out_with_429(client, demo_org):
    for _ in range(2):
        assert client.post("/admin/login/", {"username": "auditor", "password": "nope"}).status_code == 200
    assert client.post("/admin/login/", {"username": "auditor", "password": "nope"}).status_code == 429
    # Locked out: even the right password is refused now.
    assert client.post("/admin/login/", {"username": "auditor", "password": "demo"}).status_code == 429


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_a_success_before_the_limit_resets_the_count(client, demo_org):
    client.post("/admin/login/", {"username": "auditor", "password": "nope"})
    client.post("/admin/login/", {"username": "auditor", "password": "nope"})
    assert client.post("/admin/login/", {"username": "auditor", "password": "demo"}).status_code == 302


def test_sessions_expire_on_inactivity_and_after_an_absolute_lifetime(client, demo_org):
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_AGE <= 60 * 60
    client.post("/admin/login/", {"username": "auditor", "password": "demo"})
    assert client.get("/admin/").status_code == 200
    session = client.session
    session[KEY] = int(time.time()) - settings.BATON_SESSION_MAX_AGE - 1
    session.save()

    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert client.get("/admin/").status_code == 302
