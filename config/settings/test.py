"""pytest: `--ds=config.settings.test`. DATABASE_URL / REDIS_URL pick PostgreSQL and Redis."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = False
SECRET_KEY = "test-only-not-a-secret"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# locmem (mail.outbox) for the tests themselves; the real-worker integration test starts its worker
# with the SMTP backend and EMAIL_HOST/EMAIL_PORT of the SMTP server it runs. A name of its own, so
# that a DJANGO_EMAIL_BACKEND exported for `make run` never reaches the test suite.
EMAIL_BACKEND = env("BATON_TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Unit tests run tasks in-process; integration tests start a real worker with their own settings.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
BATON_DEMO_PASSWORD = "demo"
# One test database per pytest process, so that several runs on one machine never share (or drop)
# each other's database. SQLite tests use an in-memory database; PostgreSQL gets a per-process name.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["TEST"] = {"NAME": f"test_baton_{os.getpid()}"}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "100000/min"}}  # noqa: F405
# The lockout is tested on its own (tests/security); elsewhere Client.login() has no request for axes.
AXES_ENABLED = False
# The second factor is tested on its own (tests/security/test_second_factor.py).
BATON_REQUIRE_TOTP = False
# Fixed keys for customer data (the rotation test puts a new one in front).
BATON_CUSTOMER_KEYS = ["sfPgXatEgxIcYaQlJNUqM8vFrPz7owg_oVeJQGXCvBI="]
BATON_CUSTOMER_INDEX_KEY = "test-only-blind-index-key"
# Uploaded files go to the temporary directory, never into the checkout's var/media; one directory
# for every process of a run (a live server's workers read each other's uploads); names never collide.
MEDIA_ROOT = env("BATON_TEST_MEDIA_ROOT", default=os.path.join(tempfile.gettempdir(), "baton-test-media"))
