"""Settings shared by every environment. Everything that varies comes from the environment."""

from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[2]

# The embedded services of scripts/devservices.py; deployments set the URLs explicitly.
EMBEDDED_DATABASE_URL = "postgres://postgres@127.0.0.1:54329/servicedesk"
EMBEDDED_REDIS_URL = "redis://127.0.0.1:63799/0"

SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-change-me-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "treebeard",
    "servicedesk",
    "accounts",
    "catalog",
    "tickets",
    "routing",
    "sla",
    "notifications",
    "knowledge",
    "demo",
    "portal",
    "workspace",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "servicedesk.urls"
WSGI_APPLICATION = "servicedesk.wsgi.application"
ASGI_APPLICATION = "servicedesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", EMBEDDED_DATABASE_URL),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# PostgreSQL's default random_page_cost (4) models spinning disks. On SSDs with the working set
# in memory 1.1 is the usual value; with 4 the planner hash-joins the whole user table into a
# 50-row queue page (34 ms instead of 1 ms at 1,000,000 tickets, docs/benchmarks.md).
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "options", f"-c random_page_cost={env_str('DB_RANDOM_PAGE_COST', '1.1')}"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Django's model backend with a person's permissions read in one query (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.DeskModelBackend"]

REDIS_URL = env_str("REDIS_URL", EMBEDDED_REDIS_URL)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sd",
        # A request that touches Redis (the intake queue's wake-up) must not hang when Redis is
        # unreachable: it gives up after this and falls back (tickets/intake.py).
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Locale: English and Simplified Chinese ship; Asia/Shanghai is the default clock.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end libraries come from PyPI packages installed at set-up (never copied into the
# repository): Bootstrap 5 from `bootstrap-wrapper`, Chart.js from `django-admincharts`; htmx
# is served by the `django_htmx` app itself. See docs/ui.md.
_SITE_PACKAGES = Path(find_spec("bootstrap_wrapper").origin).parents[1]
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", _SITE_PACKAGES / "bootstrap"),
    ("vendor/chartjs", Path(find_spec("admincharts").origin).parent / "static" / "admincharts"),
]
# Attachments live outside the static root and are served only by a permission-checked view.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "servicedesk@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an API client without valid credentials gets 401 + WWW-Authenticate.
        "accounts.authentication.DeskTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "servicedesk.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "servicedesk.parsers.SafeTextJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Service Desk API",
    "DESCRIPTION": "Tickets from every channel, their lifecycle, SLAs and knowledge.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets come from the drf-spectacular-sidecar wheel, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name per choice set that several fields share (tickets.api).
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "tickets.choices.Channel",
        "OnBehalfChannelEnum": "tickets.api.serializers.ON_BEHALF_CHANNEL_CHOICES",
        "PendingReasonEnum": "tickets.choices.PendingReason",
    },
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# Nothing reads a task's result: every job records its outcome in the database. Without this,
# each publish also subscribes the publishing process to the result's pub/sub channel: one more
# round trip per publish, subscriptions piling up in long-lived web processes, and a pub/sub
# connection shared by the threads of a gthread worker.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict = {}  # each app's periodic jobs are added below
# Nightly retraining of the ticket classifiers (routing.tasks); a no-op when no data changed.
CELERY_BEAT_SCHEDULE["routing.retrain_classifiers"] = {
    "task": "routing.retrain_classifiers",
    "schedule": crontab(hour=2, minute=30),
}
# The SLA engine (sla.tasks, docs/sla.md): the sweep finds due timers through partial indexes.
SLA = {
    "SWEEP_SECONDS": env_int("SLA_SWEEP_SECONDS", 60),
    "SWEEP_BATCH": env_int("SLA_SWEEP_BATCH", 10_000),
    "SWEEP_CHUNK": env_int("SLA_SWEEP_CHUNK", 200),
}
CELERY_BEAT_SCHEDULE["sla.sweep"] = {"task": "sla.sweep", "schedule": SLA["SWEEP_SECONDS"]}
CELERY_BEAT_SCHEDULE["sla.progress_reminders"] = {
    "task": "sla.progress_reminders",
    "schedule": crontab(minute="*/5"),
}
CELERY_BEAT_SCHEDULE["sla.auto_close_resolved"] = {
    "task": "sla.auto_close_resolved",
    "schedule": crontab(minute=15),
}
# New tickets whose intake reactions wait for a worker (tickets/intake.py); normally a drain
# is woken by the tickets themselves, this catches what a lost message left.
CELERY_BEAT_SCHEDULE["tickets.drain_intake"] = {"task": "tickets.drain_intake", "schedule": 60}
# Notifications left pending (broker down at enqueue, worker lost): delivered again.
CELERY_BEAT_SCHEDULE["notifications.redeliver_stale"] = {
    "task": "notifications.redeliver_stale",
    "schedule": crontab(minute="*/10"),
}

# Desk policy knobs (documented in the README).
SERVICEDESK = {
    "TICKET_NUMBER_PREFIX": env_str("TICKET_NUMBER_PREFIX", "SD"),
    "REOPEN_WINDOW_DAYS": env_int("REOPEN_WINDOW_DAYS", 7),
    "AUTO_CLOSE_RESOLVED_AFTER_DAYS": env_int("AUTO_CLOSE_RESOLVED_AFTER_DAYS", 3),
    "CLASSIFIER_CONFIDENCE_THRESHOLD": float(env_str("CLASSIFIER_CONFIDENCE_THRESHOLD", "0.5")),
    "CLASSIFIER_MODEL_DIR": env_str("CLASSIFIER_MODEL_DIR", str(BASE_DIR / ".data" / "models")),
    # A new classifier version's triage threshold from this precision on held-out folds
    # (empty: the confidence threshold above); editable per version in the admin.
    "CLASSIFIER_TARGET_PRECISION": env_str("CLASSIFIER_TARGET_PRECISION", "") or None,
    # A retrained version is activated only if its CV macro-F1 is at most this much worse.
    "CLASSIFIER_RETRAIN_TOLERANCE": float(env_str("CLASSIFIER_RETRAIN_TOLERANCE", "0")),
    "PUBLIC_BASE_URL": env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
    # Ticket events whose reactions run in a Celery worker (tickets/reactions.py).
    "REACTIONS_IN_WORKER": env_list("REACTIONS_IN_WORKER", ["ticket_created"]),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
