"""Settings for Provplattform, driven by the environment.

With nothing set the platform runs embedded: SQLite, an in-memory channel layer, eager Celery and
a local-memory cache. Production mode (DEBUG=false) refuses to start without SECRET_KEY and
ALLOWED_HOSTS.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from provplattform.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    # Only for the embedded development default; never used with DEBUG=false.
    SECRET_KEY = "embedded-development-key-not-for-production-use-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
if not DEBUG and not env_list("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django's admin, as a site only platform operators may use (provplattform.admin_site).
    "provplattform.admin_site.OperatorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",  # Django's widget templates, for FORM_RENDERER
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served by us: the API docs work offline
    "csp",
    "guardian",
    "channels",
    "provplattform",
    "schools",
    "exams",
    "delivery",
    "grading",
    "results",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # After CSRF: text no layer can store (NUL, lone surrogates) is a 400 before any view runs.
    "provplattform.middleware.TextGuardMiddleware",
    "provplattform.middleware.RefusalMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "provplattform.page_errors.RefusedMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "provplattform.urls"
ASGI_APPLICATION = "provplattform.asgi.application"
WSGI_APPLICATION = "provplattform.wsgi.application"

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
    },
]
# `{{ form }}` renders every form the same way, from templates/forms/.
FORM_RENDERER = "provplattform.form_renderer.FormRenderer"

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    # WAL lets the exam client's saves and the proctor's reads run side by side.
    DATABASES["default"]["OPTIONS"].update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if USING_POSTGRES and env_bool("DB_POOL", False):
    # psycopg's pool: under ASGI each request thread would otherwise open its own connection.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": env_int("DB_POOL_MAX", 16),
        "timeout": 30,
    }

# --- Redis, cache, channels, Celery -------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "pp"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8's asyncio pool allows 100 connections and reads time out after 5 s,
                # the same as channels_redis's blocking receive: a consumer then dies. Thousands
                # of sockets per process need more of both.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env_int("CHANNELS_REDIS_MAX_CONNECTIONS", 2000),
                        "socket_timeout": 30,
                    }
                ],
                "prefix": env_str("CHANNELS_PREFIX", "pp-asgi"),
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
# Without a broker the embedded default runs jobs in-process.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = env_str("TIME_ZONE", "Europe/Stockholm")
CELERY_BEAT_SCHEDULE: dict = {}
CELERY_BEAT_SCHEDULE["delivery-auto-submit"] = {
    "task": "delivery.tasks.auto_submit_due",
    "schedule": 5.0,
}
CELERY_BEAT_SCHEDULE["delivery-submit-at-closing"] = {
    "task": "delivery.tasks.submit_at_closing",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["schools-transfer-fail-stale"] = {
    "task": "schools.transfer_fail_stale",
    "schedule": 300.0,
}
CELERY_BEAT_SCHEDULE["exams-sync-mandatory-assignments"] = {
    "task": "exams.tasks.sync_mandatory_assignments",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["results-remove-expired-exports"] = {
    "task": "results.tasks.remove_expired_exports",
    "schedule": 3600.0,
}
# Norwegian programme: up to this many points above a concern threshold is "just above".
RESULTS_JUST_ABOVE_POINTS = env_int("RESULTS_JUST_ABOVE_POINTS", 2)
# A burst of score changes waits this long before its one recomputation (results.dirty).
RESULTS_RECOMPUTE_DELAY_S = env_float("RESULTS_RECOMPUTE_DELAY_S", 1.0)
CELERY_BEAT_SCHEDULE["grading-reminders"] = {
    "task": "grading.tasks.send_reminders",
    "schedule": 6 * 3600.0,
}
# Assessors with work left are reminded this many days before the school's grading date.
GRADING_REMINDER_DAYS = env_int("GRADING_REMINDER_DAYS", 3)

# --- Auth ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "schools.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked account on every login path (per-account throttling, schools.auth).
    "schools.auth.AccountLockBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_S = env_int("LOGIN_FAILURE_WINDOW_S", 900)

# Password reset links for staff go out by e-mail; the console backend prints them by default.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Provplattform <noreply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "sv")
LANGUAGES = [("sv", _("Swedish")), ("en", _("English")), ("nb", _("Norwegian Bokmål"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Stockholm")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development WhiteNoise serves straight from the app and project static folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON with depth and number limits and stored-text checks (provplattform.inputs).
    "DEFAULT_PARSER_CLASSES": [
        "provplattform.inputs.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "provplattform.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "provplattform.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Provplattform API",
    "DESCRIPTION": "Organiser transfer, test administration, live sittings, grading and results.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two choice sets share the field name "source": each gets its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "TransferSourceEnum": "schools.models.TransferSource",
        "RoleSourceEnum": "schools.models.RoleSource",
        "TransferStatusEnum": "schools.models.TransferStatus",
    },
}

# --- Security -----------------------------------------------------------------------------------
# Every page: scripts, styles and everything else from this origin only, and nothing inline
# (templates link static files; htmx is configured not to inject styles or evaluate code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        # Sounds of a listening part are preloaded into blob: URLs so an outage cannot stop them.
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],  # fetch, the autosave and the WebSockets of this origin
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Django's admin is for platform operators on a machine of the platform: off in production
# unless switched on, and then only for them.
ADMIN_ENABLED = env_bool("ADMIN_ENABLED", DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The save pool retries every quarter second while the database is away; the save route
        # says so once every few seconds instead (delivery.save_api).
        "psycopg.pool": {"level": "ERROR"},
    },
}

# --- Domain ---------------------------------------------------------------------------------------
# Rules from the organisers' guidance; kept here so a deployment can tune them.
TRANSFER_FIRST_MIN_DAYS = env_int("TRANSFER_FIRST_MIN_DAYS", 30)
TRANSFER_UPDATE_MIN_DAYS = env_int("TRANSFER_UPDATE_MIN_DAYS", 7)
ASSIGNMENT_OPENS_DAYS_BEFORE = env_int("ASSIGNMENT_OPENS_DAYS_BEFORE", 21)

# --- Live sitting (delivery) ----------------------------------------------------------------------
# Keyed hash for platform-generated student secrets; derived from SECRET_KEY unless set.
STUDENT_CREDENTIAL_PEPPER = env_str("STUDENT_CREDENTIAL_PEPPER") or SECRET_KEY
# Answers made before the deadline but delivered after it (an outage) are accepted this long.
DELIVERY_LATE_GRACE_S = env_int("DELIVERY_LATE_GRACE_S", 120)
# Connections per web process for the save path on PostgreSQL.
DELIVERY_SAVE_POOL_SIZE = env_int("DELIVERY_SAVE_POOL_SIZE", 8)
# A save waits at most this long for the database (a pooled connection, then the statement);
# longer, and it is answered 503 with Retry-After so that the client keeps it and retries.
DELIVERY_SAVE_DB_WAIT_S = env_float("DELIVERY_SAVE_DB_WAIT_S", 1.0)
DELIVERY_SAVE_STATEMENT_S = env_float("DELIVERY_SAVE_STATEMENT_S", 5.0)
# On PostgreSQL saves are answered by the ASGI route in front of Django; false sends them through
# the Django view instead (the ORM path: same rule, same answers; the fault tests use both).
DELIVERY_SAVE_FAST_PATH = env_bool("DELIVERY_SAVE_FAST_PATH", True)
# The assessor's score save answered in front of Django on PostgreSQL (grading.score_route).
GRADING_SAVE_FAST_PATH = env_bool("GRADING_SAVE_FAST_PATH", True)
# HTTP requests Django handles at once per web process (each holds a database connection).
WEB_MAX_CONCURRENT_REQUESTS = env_int("WEB_MAX_CONCURRENT_REQUESTS", 12)
# How plain HTTP reaches Django inside the ASGI server (provplattform.sync_http): "threadpool",
# the bridge kept in the project, or "a2wsgi", the maintained library's WSGIMiddleware.
WEB_HTTP_BRIDGE = env_str("WEB_HTTP_BRIDGE", "threadpool")
if WEB_HTTP_BRIDGE not in ("threadpool", "a2wsgi"):
    raise ImproperlyConfigured("WEB_HTTP_BRIDGE must be 'threadpool' or 'a2wsgi'.")
if WEB_HTTP_BRIDGE == "a2wsgi" and importlib.util.find_spec("a2wsgi") is None:
    raise ImproperlyConfigured("WEB_HTTP_BRIDGE=a2wsgi needs the a2wsgi package installed.")

# --- Presence (delivery.presence) ----------------------------------------------------------------
# The exam client sends a heartbeat every PRESENCE_HEARTBEAT_S; a socket silent for heartbeat +
# grace is a silent drop. A reconnect within PRESENCE_CLOSE_HOLD_S of a close emits nothing.
PRESENCE_HEARTBEAT_S = env_int("PRESENCE_HEARTBEAT_S", 3)
PRESENCE_GRACE_S = env_int("PRESENCE_GRACE_S", 4)
PRESENCE_CLOSE_HOLD_S = float(env_str("PRESENCE_CLOSE_HOLD_S", "0.5"))
# Half a second: a silent drop is then announced within heartbeat + grace + 0.5 s at most.
PRESENCE_SWEEP_INTERVAL_S = float(env_str("PRESENCE_SWEEP_INTERVAL_S", "0.5"))
# Room aggregation: this many drops in one room within the window give IT one room notice.
PRESENCE_ROOM_BURST_COUNT = env_int("PRESENCE_ROOM_BURST_COUNT", 5)
PRESENCE_ROOM_BURST_WINDOW_S = env_int("PRESENCE_ROOM_BURST_WINDOW_S", 5)
PRESENCE_REDIS_URL = env_str("PRESENCE_REDIS_URL", REDIS_URL or "")
PRESENCE_KEY_PREFIX = env_str(
    "PRESENCE_KEY_PREFIX", env_str("CACHE_KEY_PREFIX", "pp") + ":presence"
)
CELERY_IMPORTS = ("delivery.sweeper",)
CELERY_BEAT_SCHEDULE["delivery-presence-sweep"] = {
    "task": "delivery.sweeper.presence_sweep",
    "schedule": 2.0,
}
