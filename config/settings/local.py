"""Development: `make run`. Debug on, e-mails printed to the console unless configured."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Development only: production has no default (config/settings/production.py).
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-development-only-not-a-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
# One line per message on the console (config/mail.py), not its MIME source: the first SLA sweep of the
# demo sends a hundred e-mails. DJANGO_EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend
# prints them whole.
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="config.mail.SummaryConsoleBackend")
# Demo users log in with the password "demo" in development only.
BATON_DEMO_PASSWORD = "demo"
# The demo users have no TOTP devices; set BATON_REQUIRE_TOTP=true to try the second factor locally.
BATON_REQUIRE_TOTP = env.bool("BATON_REQUIRE_TOTP", default=False)
# Customer-data keys: generated once under var/ (gitignored) when the environment has none, so that
# `make run` works on a fresh machine. Never in production (config/settings/production.py).
if not BATON_CUSTOMER_KEYS or not BATON_CUSTOMER_INDEX_KEY:  # noqa: F405
    from config.dev_keys import development_customer_keys

    _keys, _index_key = development_customer_keys(VAR_DIR)  # noqa: F405
    BATON_CUSTOMER_KEYS = BATON_CUSTOMER_KEYS or _keys  # noqa: F405
    BATON_CUSTOMER_INDEX_KEY = BATON_CUSTOMER_INDEX_KEY or _index_key  # noqa: F405
