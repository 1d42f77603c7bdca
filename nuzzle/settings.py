"""Nuzzle's one settings file.

Every value comes from the environment (or a `.env` file beside `manage.py`) with an
embedded default, so a fresh checkout runs on SQLite, a file-based Celery broker and
emails written to `var/mail/` with no configuration at all. Production sets
`DEBUG=0`, `SECRET_KEY`, `ALLOWED_HOSTS`, `SITE_URL`, `DATABASE_URL`, `REDIS_URL` and
`EMAIL_URL`, plus `SECURE_PROXY_SSL_HEADER=1` behind a TLS-terminating proxy
(see `.env.example`).
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # runtime files of the embedded defaults; git-ignored

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Development-only key; production must set SECRET_KEY (enforced below).
_DEV_SECRET_KEY = "dev-only-insecure-key-nuzzle-never-use-in-production-0123456789"  # noqa: S105

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base URL used in emails and invite links (no trailing slash).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = "Nuzzle"

INSTALLED_APPS = [
    "nuzzle.lib.admin.AdminConfig",  # django.contrib.admin, its log-in rate limited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "import_export",
    "simple_history",
    "nuzzle.couples",
    "nuzzle.nudges",
    "nuzzle.dashboard",
    "prompts",
    "checkins",
    "lovemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "nuzzle.lib.middleware.PersonTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "nuzzle.lib.middleware.NoStoreMiddleware",
    # Last: it knows who is signed in, and its 413 gets every header above on the way out.
    "nuzzle.lib.middleware.BodySizeMiddleware",
]

ROOT_URLCONF = "nuzzle.urls"
WSGI_APPLICATION = "nuzzle.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                # After Django's (which the admin requires): `user` unwrapped.
                "nuzzle.lib.context_processors.person",
                "django.contrib.messages.context_processors.messages",
                "nuzzle.lib.context_processors.site",
            ],
            "libraries": {"fragments": "nuzzle.lib.fragments"},
            "builtins": ["nuzzle.lib.urltag"],
        },
    },
]

# --- Database -------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'nuzzle.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; the busy timeout waits
    # for a writer instead of failing at once with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # Django's backend, but the health check (`SELECT 1` before a request's first
    # query) runs only on a connection idle for more than DB_HEALTH_CHECK_IDLE seconds
    # (nuzzle/lib/db/postgresql/base.py; 0 checks before every request, as Django does).
    DATABASES["default"]["ENGINE"] = "nuzzle.lib.db.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DB_HEALTH_CHECK_IDLE = env.float("DB_HEALTH_CHECK_IDLE", default=5.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ---------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # django-redis, because a cache must never take a request down: with Redis gone,
    # reads miss and writes are dropped (IGNORE_EXCEPTIONS) after a short timeout, so a
    # partner can still check in and answer while Redis restarts.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "nuzzle",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport, so the
# laptop set-up needs no server. Results are not stored: tasks write to the database.
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost/"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A task not acknowledged within this window is redelivered; longer than any task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Auth -----------------------------------------------------------------------
AUTH_USER_MODEL = "couples.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 3)
INVITE_TTL = timedelta(days=7)

# --- API ------------------------------------------------------------------------
# Number of trusted reverse proxies in front of gunicorn; the client address is
# taken that many hops from the right of X-Forwarded-For, never from its start (0:
# the header is ignored and the TCP peer is the client). Read by every rate limit.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Rate limits (nuzzle.lib.ratelimit), shared by the HTML pages and the API:
# "<count>/<period>", period sec/min/hour/day with an optional multiplier ("5/15min").
# A scope counts per client address; "<scope>_email" and "<scope>_user" also count
# per account email and per signed-in user.
RATE_LIMITS = {
    "auth": env.str("THROTTLE_AUTH", default="20/min"),
    "auth_email": env.str("THROTTLE_AUTH_EMAIL", default="10/15min"),
    "signup": env.str("THROTTLE_SIGNUP", default="10/hour"),
    "password_reset": env.str("THROTTLE_PASSWORD_RESET", default="10/hour"),
    "password_reset_email": env.str("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour"),
    "invite_accept": env.str("THROTTLE_INVITE_ACCEPT", default="20/hour"),
    "invite_accept_user": env.str("THROTTLE_INVITE_ACCEPT", default="20/hour"),
    "account_delete": env.str("THROTTLE_ACCOUNT_DELETE", default="10/hour"),
    "account_delete_user": env.str("THROTTLE_ACCOUNT_DELETE", default="10/hour"),
    "push_test_user": env.str("THROTTLE_PUSH_TEST", default="5/10min"),
}
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes unauthenticated requests 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's tokens, checked in one query (knox's own class takes three).
        "nuzzle.lib.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["nuzzle.lib.parsers.JSONParser"],  # refuses deep nesting
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "nuzzle.lib.api.Pagination",
    "PAGE_SIZE": 30,
    "DEFAULT_SCHEMA_CLASS": "nuzzle.lib.schema.AutoSchema",
    "EXCEPTION_HANDLER": "nuzzle.lib.api.exception_handler",
    # The client address, for any DRF throttle: the same rule as nuzzle.lib.ratelimit.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=90)),
    "AUTO_REFRESH": True,
    # Extend a token's life at most once an hour (knox's default: once a minute), so an
    # API client's requests are reads, not a write each minute, over a 90-day TTL.
    "MIN_REFRESH_INTERVAL": 60 * 60,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Nuzzle API",
    "DESCRIPTION": "The JSON API of Nuzzle. Authenticate with `Authorization: Token <token>` "
    "(from `POST /api/v1/auth/token`) or a browser session.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One name for each shared choice set, wherever it appears.
    "ENUM_NAME_OVERRIDES": {"ReactionEnum": "nuzzle.lib.choices.Reaction"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "nuzzle.lib.schema.add_error_responses",
    ],
}
# Request bodies (nuzzle.lib.middleware.BodySizeMiddleware): every route, API and HTML
# forms alike, refuses a larger body with 413 before reading it. Signed-in staff may
# send up to MAX_IMPORT_BODY_BYTES to the views named in LARGE_BODY_VIEWS (the admin's
# prompt import, a CSV or JSON file).
MAX_BODY_BYTES = env.int("MAX_BODY_BYTES", default=64 * 1024)
MAX_IMPORT_BODY_BYTES = env.int("MAX_IMPORT_BODY_BYTES", default=2 * 1024 * 1024)
LARGE_BODY_VIEWS = ["admin:prompts_prompt_import"]
# Django's own limits, in line: form fields as above; and since no body larger than
# MAX_IMPORT_BODY_BYTES gets in, an uploaded file always stays in memory and is never
# spooled to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = max(MAX_BODY_BYTES, MAX_IMPORT_BODY_BYTES)

# --- Email ----------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)  # seconds; never hang a worker on SMTP
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Nuzzle <nuzzle@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Nudges ---------------------------------------------------------------------
# A nudge that cannot go out within this many minutes of its time is skipped, never
# sent late (e.g. after the scheduler was down): calm, not compulsive.
NUDGE_SEND_WINDOW_MINUTES = env.int("NUDGE_SEND_WINDOW_MINUTES", default=120)
# Partner events this close together share one email.
NUDGE_EVENT_DELAY_MINUTES = env.int("NUDGE_EVENT_DELAY_MINUTES", default=15)
# How long a worker may hold claimed outbox rows before the tick takes them back.
NUDGE_LEASE_SECONDS = env.int("NUDGE_LEASE_SECONDS", default=600)
# Emails per delivery batch (one SMTP connection each) and parallel delivery tasks.
NUDGE_DELIVERY_BATCH = env.int("NUDGE_DELIVERY_BATCH", default=100)
NUDGE_DELIVERY_PARALLEL = env.int("NUDGE_DELIVERY_PARALLEL", default=2)
# Seconds to wait after each temporary SMTP failure (4xx, timeout, refused); one more
# try after the last wait, then the nudge ends as failed.
NUDGE_RETRY_BACKOFF_SECONDS = [
    int(seconds)
    for seconds in env.list("NUDGE_RETRY_BACKOFF_SECONDS", default=[60, 300, 900, 3600])
]
# --- Web Push (the second nudge channel) ---------------------------------------
# The VAPID key pair that signs every push (RFC 8292). Unset: one is generated on first
# use and kept in var/webpush-vapid.pem (the embedded default). Changing it makes every
# browser's subscription useless: people turn notifications on again.
WEBPUSH_VAPID_PRIVATE_KEY = env.str("WEBPUSH_VAPID_PRIVATE_KEY", default="")
# Where the generated key is kept. Every process (web, workers) must read the same file:
# docker-compose.yml puts it on a volume they share.
WEBPUSH_VAPID_KEY_FILE = Path(
    env.str("WEBPUSH_VAPID_KEY_FILE", default=str(VAR_DIR / "webpush-vapid.pem"))
)
# Who push services contact about this server's pushes (a mailto: or https: URL).
WEBPUSH_VAPID_SUBJECT = env.str(
    "WEBPUSH_VAPID_SUBJECT", default=f"mailto:{parseaddr(DEFAULT_FROM_EMAIL)[1]}"
)
# The server POSTs to URLs browsers give it: only https endpoints on these hosts (a
# leading dot or none: the host itself and its subdomains) are accepted and used.
# Default: the push services of Chrome/Android, Firefox, Safari/Apple and Edge/Windows.
WEBPUSH_ENDPOINT_HOSTS = env.list(
    "WEBPUSH_ENDPOINT_HOSTS",
    default=[
        "fcm.googleapis.com",
        "push.services.mozilla.com",
        "push.apple.com",
        "notify.windows.com",
    ],
)
# Development and tests only: also accept http:// endpoints and hosts that are (or
# resolve to) loopback or private addresses, still only on the hosts above.
WEBPUSH_ALLOW_HTTP = env.bool("WEBPUSH_ALLOW_HTTP", default=False)
# Seconds one push request may take (connect and read): never hang a worker.
WEBPUSH_TIMEOUT = env.float("WEBPUSH_TIMEOUT", default=5.0)
# How long a push service keeps an undelivered notification for an offline device.
WEBPUSH_TTL_SECONDS = env.int("WEBPUSH_TTL_SECONDS", default=4 * 3600)

# Seconds between beat ticks (the nudge tick and the daily-question sweep). One minute
# in production; the fault tests shorten it to watch real processes quickly.
BEAT_INTERVAL_SECONDS = env.float("BEAT_INTERVAL_SECONDS", default=60.0)

# --- Static files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing folder
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Collected files are also written pre-compressed (gzip, and Brotli, which WhiteNoise
# uses because it is installed) and served under content-hashed names with a
# far-future, immutable Cache-Control. Source maps are for developer tools only and
# are the largest files: compressing them with Brotli doubled collectstatic's time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# --- Internationalisation ----------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
CSRF_COOKIE_SAMESITE = "Lax"
# Forms carry the token; no script reads the cookie. (Swagger UI's "Try it out" thus
# needs an API token for writes, not the browser session.)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind TLS (production): secure cookies, HSTS, redirect to https. A proxy that
# terminates TLS must send X-Forwarded-Proto (set SECURE_PROXY_SSL_HEADER=1).
_https = env.bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_https)
# Load balancers probe the health check over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_https)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=_https)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# No inline scripts or styles anywhere; everything is served from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Logging: ids only, never content --------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
