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
