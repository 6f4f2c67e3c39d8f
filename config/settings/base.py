"""Settings shared by every environment; each section links the Django docs it follows."""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# Only when asked: a compose `.env` in a developer's checkout must not take over `make run`/`make test`.
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

# GENERAL
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# https://docs.djangoproject.com/en/5.2/ref/settings/#time-zone
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True
# https://docs.djangoproject.com/en/5.2/ref/settings/#language-code
# zh-hans is the default; LocaleMiddleware switches to the browser's language.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
SITE_ID = 1
# Absolute base of links in e-mails, e.g. https://baton.bank.example. Without it, the address `make
# run` serves on (BATON_PORT, which web, worker and beat all inherit).
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env('BATON_PORT', default='8000')}").rstrip("/")

# DATABASES
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# Default: a SQLite file under var/ so that a fresh machine needs no server.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'baton.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat write to one file: WAL lets readers run beside a writer, IMMEDIATE takes
    # the write lock at BEGIN so two writers queue on the busy timeout instead of failing with
    # "database is locked" half-way through a transaction.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-transaction-behavior
    DATABASES["default"]["ENGINE"] = "core.db.sqlite3"  # Django's, placeholders converted once
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Our queries are short index lookups. PostgreSQL's JIT compiles any plan whose estimated cost
    # passes a threshold, and a scope filter's OR (department handled it, or the user opened it) is
    # estimated high: 100-270 ms of compiling for a 50-row page (bench/scope_bench.py).
    # https://www.postgresql.org/docs/current/jit-decision.html
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", "-c jit=" + ("on" if env.bool("POSTGRES_JIT", default=False) else "off")
    )
    # Server-side binding with prepared statements: a statement a connection runs a fifth time is
    # planned once and kept. Each state change repeats the same few statements, and planning them
    # was a third of PostgreSQL's time per change (bench/engine_bench.py). Off behind a pooler in
    # transaction mode that cannot carry prepared statements (POSTGRES_PREPARED=0).
    # https://docs.djangoproject.com/en/5.2/ref/databases/#server-side-parameters-binding
    if env.bool("POSTGRES_PREPARED", default=True):
        DATABASES["default"]["OPTIONS"].update({"server_side_binding": True, "prepare_threshold": 5})
# https://docs.djangoproject.com/en/5.2/ref/settings/#std:setting-DEFAULT_AUTO_FIELD
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# URLS
# ------------------------------------------------------------------------------
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# APPS
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # django.contrib.admin with a site that lets changelists filter only on declared filters.
    "departments.admin_site.BatonAdminConfig",
]
THIRD_PARTY_APPS = [
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
]
LOCAL_APPS = [
    "core",
    "departments",
    "processes",
    "evaluations",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# AUTHENTICATION
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#auth-password-validators
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
LOGIN_URL_PATH = "/admin/login/"
# django-axes first: it refuses locked-out users before any password is checked.
# https://django-axes.readthedocs.io/en/latest/2_installation.html
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend whose permission lookups API requests keep per process (departments/access.py).
    "departments.access.StampedModelBackend",
]
# The bank's directory (LDAP / Active Directory), when LDAP_SERVER_URI is set: departments/ldap.py maps
# groups named baton_<DEPARTMENT CODE>_<role> to memberships; local accounts keep working beside it.
# https://django-auth-ldap.readthedocs.io/en/latest/reference.html
if env("LDAP_SERVER_URI", default=""):
    import ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    AUTHENTICATION_BACKENDS.insert(1, "departments.ldap.BatonLDAPBackend")
    AUTH_LDAP_SERVER_URI = env("LDAP_SERVER_URI")
    AUTH_LDAP_BIND_DN = env("LDAP_BIND_DN", default="")
    AUTH_LDAP_BIND_PASSWORD = env("LDAP_BIND_PASSWORD", default="")
    AUTH_LDAP_START_TLS = env.bool("LDAP_START_TLS", default=False)
    AUTH_LDAP_USER_SEARCH = LDAPSearch(
        env("LDAP_USER_BASE"), ldap.SCOPE_SUBTREE, env("LDAP_USER_FILTER", default="(uid=%(user)s)")
    )
    AUTH_LDAP_GROUP_SEARCH = LDAPSearch(
        env("LDAP_GROUP_BASE"), ldap.SCOPE_SUBTREE, "(objectClass=groupOfNames)"
    )
    AUTH_LDAP_GROUP_TYPE = GroupOfNamesType(name_attr="cn")
    AUTH_LDAP_REQUIRE_GROUP = env("LDAP_REQUIRE_GROUP", default=None)
    AUTH_LDAP_USER_ATTR_MAP = {"first_name": "givenName", "last_name": "sn", "email": "mail"}
    AUTH_LDAP_FIND_GROUP_PERMS = False
    AUTH_LDAP_ALWAYS_UPDATE_USER = True
BATON_LDAP_GROUP_PREFIX = env("LDAP_GROUP_PREFIX", default="baton_")
# Lockout after repeated failures, per username and per address, answered with 429.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The client's address comes from the same function as the audit log's: X-Forwarded-For is believed
# only from the trusted proxies below, so a client cannot dodge the lockout by inventing addresses.
AXES_CLIENT_IP_CALLABLE = "departments.audit.client_ip"
# Sessions: end after inactivity, and after an absolute lifetime whatever the activity.
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
BATON_SESSION_MAX_AGE = env.int("BATON_SESSION_MAX_AGE", default=10 * 60 * 60)
# TOTP for administrators, the quality office and whoever may see unmasked data (django-otp;
# departments/second_factor.py). Off only where the settings say so (make run's demo, the tests).
BATON_REQUIRE_TOTP = env.bool("BATON_REQUIRE_TOTP", default=True)
OTP_TOTP_ISSUER = "Baton"

# MIDDLEWARE
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/http/middleware/
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a body: an oversized one under /api/ is refused in JSON, unread.
    "processes.api.middleware.ApiRequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the TOTP check (departments.second_factor).
    "django_otp.middleware.OTPMiddleware",
    "departments.middleware.AbsoluteSessionLifetimeMiddleware",
    # Gives the configuration history its "who" for changes made in the admin.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication (a session's user owns its keys); replays POSTs with a seen Idempotency-Key.
    "processes.api.idempotency.IdempotencyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

# STATIC
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/howto/static-files/
STATIC_URL = "/static/"
# Where collectstatic writes (a browser test serving production settings uses a folder of its own).
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Uploaded files (case attachments): the file system under MEDIA_ROOT by default; S3-compatible
# object storage through django-storages when a bucket is named (docs/attachments.md).
# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default="") or str(BASE_DIR / "var" / "media")
MEDIA_URL = "/media/"  # never served as such: downloads go through the scope-checked views
DEFAULT_FILE_STORAGE_BACKEND = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if env("BATON_S3_BUCKET", default=""):
    DEFAULT_FILE_STORAGE_BACKEND = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("BATON_S3_BUCKET"),
            "endpoint_url": env("BATON_S3_ENDPOINT_URL", default="") or None,
            "region_name": env("BATON_S3_REGION", default="") or None,
            "access_key": env("BATON_S3_ACCESS_KEY", default="") or None,
            "secret_key": env("BATON_S3_SECRET_KEY", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": DEFAULT_FILE_STORAGE_BACKEND,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# TEMPLATES
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#templates
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# SECURITY
# ------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# EMAIL
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/email/
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Baton <baton@localhost>")

# LOGGING
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/logging/
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(asctime)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"level": "INFO", "handlers": ["console"]},
}

# CELERY
# ------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    # No Redis configured: kombu's filesystem transport is a broker that needs no server, so that
    # `make run` works on a machine with only Python. Web, worker and beat share the folders.
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TIMEZONE = TIME_ZONE
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a web request must not hang when the broker is down: fail fast, the outbox
# and beat pick the work up later.
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# DJANGO REST FRAMEWORK
# ------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": (
        "departments.api_keys.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": (
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ),
    # JSON nested or sized beyond any real payload is a 400/413, not a RecursionError (a 500).
    "DEFAULT_PARSER_CLASSES": ("core.api.parsers.BoundedJSONParser",),
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    # Counted per user: every key of one integration user shares its user's budget.
    # The counters live in the shared cache below, so every web process counts alike.
    "DEFAULT_THROTTLE_CLASSES": ("processes.api.throttling.ResilientUserRateThrottle",),
    "DEFAULT_THROTTLE_RATES": {"user": env("API_THROTTLE_RATE", default="600/min")},
    # One handler maps domain errors (core.errors) and DRF's to JSON {code, detail[, fields]}.
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Baton API",
    "DESCRIPTION": "Cross-department service processes: cases, handoffs, SLAs, evaluations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Input and output shapes differ (read-only fields, ids vs codes): separate components.
    "COMPONENT_SPLIT_REQUEST": True,
    # The answers given before a view runs (413 body too large, 414 request line too long).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "processes.api.schema.add_transport_errors",
        "processes.api.openapi.idempotency_key_on_posts",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "processes.models.Case.Status",
        "HandoffStatusEnum": "processes.models.Handoff.Status",
        "HandoffKindEnum": "processes.models.Handoff.Kind",
        "EventKindEnum": "processes.models.cases.event_kinds",
        "CaseChannelEnum": "processes.models.Case.Channel",
        "PriorityEnum": "processes.models.Priority",
        "FeedbackChannelEnum": "evaluations.models.CustomerFeedback.Channel",
        "PeriodKindEnum": "evaluations.periods.PeriodKind",
        "KpiCodeEnum": "evaluations.models.Kpi.Code",
        "ReviewStatusEnum": "evaluations.reviews.models.ImprovementReview.Status",
        "ActionStatusEnum": "evaluations.reviews.models.ImprovementAction.Status",
        "ActionKindEnum": "evaluations.reviews.models.ImprovementAction.Kind",
        "ActionEventKindEnum": "evaluations.reviews.models.ImprovementActionEvent.Kind",
    },
    # The API's path converters (processes/api/urls.py), so that the schema says what a URL accepts.
    "PATH_CONVERTER_OVERRIDES": {
        "case_ref": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,6}-[0-9]{6}-[0-9]{6,9}$"},
        "api_id": {"type": "integer", "minimum": 1, "maximum": 999999999999999999},
        "api_code": {"type": "string", "pattern": "^[-A-Za-z0-9_]{1,50}$"},
    },
}

# CACHES
# ------------------------------------------------------------------------------
# Throttling counters must be shared by every web process: Redis when configured, files under var/
# for the single-machine default (never per-process memory).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# BATON
# ------------------------------------------------------------------------------
# Reverse proxies (addresses or networks) whose X-Forwarded-For names the client, e.g. the load
# balancer's "10.0.0.0/24". Empty: the TCP peer is the client and the header is ignored.
BATON_TRUSTED_PROXIES = env.list("BATON_TRUSTED_PROXIES", default=[])
# A heartbeat older than this makes /readyz report the worker path as stale.
HEARTBEAT_MAX_AGE_SECONDS = env.int("HEARTBEAT_MAX_AGE_SECONDS", default=180)
# Targets of a compensation-approval handoff, in business minutes of the approving department.
BATON_APPROVAL_RESPONSE_MINUTES = env.int("BATON_APPROVAL_RESPONSE_MINUTES", default=240)
BATON_APPROVAL_RESOLUTION_MINUTES = env.int("BATON_APPROVAL_RESOLUTION_MINUTES", default=960)
# SLA sweep: handoffs per step and run; escalation to level 2 this long after level 1.
BATON_SWEEP_BATCH = env.int("BATON_SWEEP_BATCH", default=2000)
BATON_LEVEL2_AFTER_MINUTES = env.int("BATON_LEVEL2_AFTER_MINUTES", default=120)
# Outbox delivery: rows per run, attempts before a row is dead, first retry delay (doubles each time).
BATON_MAIL_BATCH = env.int("BATON_MAIL_BATCH", default=100)
BATON_MAIL_MAX_ATTEMPTS = env.int("BATON_MAIL_MAX_ATTEMPTS", default=6)
BATON_MAIL_RETRY_SECONDS = env.int("BATON_MAIL_RETRY_SECONDS", default=60)
# Webhooks: hosts that may resolve to loopback/private addresses (tests, an on-premises receiver),
# timeout per connect and read, response bytes read, messages per run, attempts before a delivery is
# dead, first retry delay (doubling, jittered), hours of failing before a subscription is disabled.
BATON_WEBHOOK_ALLOWED_HOSTS = env.list("BATON_WEBHOOK_ALLOWED_HOSTS", default=[])
BATON_WEBHOOK_TIMEOUT_SECONDS = env.float("BATON_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
BATON_WEBHOOK_MAX_RESPONSE_BYTES = env.int("BATON_WEBHOOK_MAX_RESPONSE_BYTES", default=64 * 1024)
BATON_WEBHOOK_BATCH = env.int("BATON_WEBHOOK_BATCH", default=100)
BATON_WEBHOOK_MAX_ATTEMPTS = env.int("BATON_WEBHOOK_MAX_ATTEMPTS", default=12)
BATON_WEBHOOK_RETRY_SECONDS = env.float("BATON_WEBHOOK_RETRY_SECONDS", default=30.0)
BATON_WEBHOOK_DISABLE_AFTER_HOURS = env.float("BATON_WEBHOOK_DISABLE_AFTER_HOURS", default=72.0)
# Seconds one delivery run sends for before it hands over to a fresh task (below the task's limit).
BATON_WEBHOOK_RUN_SECONDS = env.float("BATON_WEBHOOK_RUN_SECONDS", default=60.0)
# API keys expire this many days after they are issued, unless an expiry is given.
BATON_API_KEY_DAYS = env.int("BATON_API_KEY_DAYS", default=365)
# Idempotency-Key: hours a key is kept, seconds a repeat waits for the first request's answer.
BATON_IDEMPOTENCY_HOURS = env.int("BATON_IDEMPOTENCY_HOURS", default=24)
BATON_IDEMPOTENCY_WAIT_SECONDS = env.float("BATON_IDEMPOTENCY_WAIT_SECONDS", default=10.0)
# Resolved cases close themselves after this many days without a reopen.
BATON_AUTO_CLOSE_DAYS = env.int("BATON_AUTO_CLOSE_DAYS", default=7)

# CUSTOMER DATA
# ------------------------------------------------------------------------------
# Customer name, phone and number are encrypted at rest (processes/customers/crypto.py): Fernet keys,
# newest first, comma-separated; a separate HMAC key for the blind index that finds a customer again.
# Development generates both under var/ (config/settings/local.py); production refuses to start
# without them (config/settings/production.py).
BATON_CUSTOMER_KEYS = env.list("BATON_CUSTOMER_KEYS", default=[])
BATON_CUSTOMER_INDEX_KEY = env("BATON_CUSTOMER_INDEX_KEY", default="")
# Messages to the customer: the SMS gateway adapter (processes/customers/sms.py), the generic HTTP
# gateway's URL, bearer token and timeout, attempts before a message is dead (retry delays as e-mail).
# Off: state changes queue no message to customers (the staff still record what they told them).
BATON_CUSTOMER_MESSAGES = env.bool("BATON_CUSTOMER_MESSAGES", default=True)
BATON_SMS_GATEWAY = env("BATON_SMS_GATEWAY", default="console")
BATON_SMS_HTTP_URL = env("BATON_SMS_HTTP_URL", default="")
BATON_SMS_HTTP_TOKEN = env("BATON_SMS_HTTP_TOKEN", default="")
BATON_SMS_TIMEOUT_SECONDS = env.float("BATON_SMS_TIMEOUT_SECONDS", default=5.0)
BATON_CUSTOMER_MESSAGE_MAX_ATTEMPTS = env.int("BATON_CUSTOMER_MESSAGE_MAX_ATTEMPTS", default=6)
# Where the satisfaction survey is answered; the message carries the case's reply code.
BATON_SURVEY_URL = env("BATON_SURVEY_URL", default=f"{SITE_URL}/survey")
# Case attachments: per file and per case, in bytes; the types are checked from the content.
BATON_ATTACHMENT_MAX_BYTES = env.int("BATON_ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
BATON_ATTACHMENT_CASE_QUOTA_BYTES = env.int("BATON_ATTACHMENT_CASE_QUOTA_BYTES", default=100 * 1024 * 1024)
BATON_ATTACHMENT_TYPES = env.list(
    "BATON_ATTACHMENT_TYPES",
    default=[
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "audio/mpeg",
        "audio/wav",
        "audio/mp4",
        "audio/ogg",
    ],
)
# A virus scanner: the dotted path of a function (name, data) -> "clean" | "infected" | "not_scanned".
BATON_ATTACHMENT_SCANNER = env("BATON_ATTACHMENT_SCANNER", default="processes.attachments.scan_nothing")
