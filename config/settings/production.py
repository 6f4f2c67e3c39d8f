"""Production: everything from the environment, nothing secret has a default."""

from .base import *  # noqa: F403
from .base import env

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env("DJANGO_SECRET_KEY")
# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Customer data at rest: no default, so a missing key stops the start (processes/customers/crypto.py).
BATON_CUSTOMER_KEYS = env.list("BATON_CUSTOMER_KEYS")
BATON_CUSTOMER_INDEX_KEY = env("BATON_CUSTOMER_INDEX_KEY")
if not BATON_CUSTOMER_KEYS or not BATON_CUSTOMER_INDEX_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("BATON_CUSTOMER_KEYS and BATON_CUSTOMER_INDEX_KEY are required.")

# SECURITY
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Probes from the orchestrator speak plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# Bank staff sessions also end when the browser closes (inactivity and absolute lifetime: base.py).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SAMESITE = "Lax"

# CONTENT SECURITY POLICY
# ------------------------------------------------------------------------------
# https://django-csp.readthedocs.io/en/latest/configuration.html — everything from our own origin.
MIDDLEWARE = [*MIDDLEWARE, "csp.middleware.CSPMiddleware"]  # noqa: F405
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# STATIC
# ------------------------------------------------------------------------------
# https://whitenoise.readthedocs.io/en/stable/django.html
STORAGES = {
    "default": DEFAULT_FILE_STORAGE_BACKEND,  # noqa: F405 (the file system, or S3 when configured)
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# EMAIL
# ------------------------------------------------------------------------------
EMAIL_SUBJECT_PREFIX = "[Baton] "

# LOGGING
# ------------------------------------------------------------------------------
LOGGING["root"]["level"] = env("DJANGO_LOG_LEVEL", default="INFO")  # noqa: F405
