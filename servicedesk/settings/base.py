"""Settings shared by every environment. Everything that varies comes from the environment."""

from datetime import timedelta
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
    "axes",
    "csp",
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
    "mailin",
    "feedback",
    "servicecatalog",
    "alerts",
    "incidents",
    "reports",
    "django_prometheus",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response (docs/security.md);
    # django-csp's middleware with the policy built once (servicedesk/middleware.py).
    "servicedesk.middleware.ContentSecurityPolicyMiddleware",
    "servicedesk.middleware.SecurityHeadersMiddleware",
    # NUL characters in the address: 400 before anything reads them (servicedesk/middleware.py).
    "servicedesk.middleware.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Turns a sign-in that django-axes locked out into a 429 page (accounts/lockout.py).
    "axes.middleware.AxesMiddleware",
    # Last, so it sees the views' exceptions first: JSON 503 on /api/ during a database outage.
    "servicedesk.middleware.ApiErrorMiddleware",
]

# Browser-side hardening of every page (issue 17, item 2; docs/security.md). No inline script
# anywhere: behaviours live in static/js/desk.js; no inline style either. Bootstrap's CSS draws
# its form icons from data: URLs. Pages may not be framed (frame-ancestors, X-Frame-Options).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

# Networks outgoing webhooks may never reach, on top of link-local and cloud metadata
# addresses, which are always refused (servicedesk/outbound.py), e.g. "10.0.0.0/8,192.168.0.0/16".
OUTBOUND_DENY_NETWORKS = env_list("OUTBOUND_DENY_NETWORKS", [])

# System checks an operator chose to silence (comma-separated ids, e.g. sla.W001).
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [])

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
# Django's backend with a health check that reads the socket instead of sending `SELECT 1`
# on every request (servicedesk/postgresql/base.py).
POSTGRESQL_ENGINE = "servicedesk.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
# PostgreSQL's default random_page_cost (4) models spinning disks. On SSDs with the working set
# in memory 1.1 is the usual value; with 4 the planner hash-joins the whole user table into a
# 50-row queue page (34 ms instead of 1 ms at 1,000,000 tickets, docs/benchmarks.md).
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "options", f"-c random_page_cost={env_str('DB_RANDOM_PAGE_COST', '1.1')}"
)
# Reports may read from a PostgreSQL replica (reports/routers.py); unset, they read the primary.
if env_str("REPORTS_DATABASE_URL", ""):
    DATABASES["reports"] = dj_database_url.parse(
        env_str("REPORTS_DATABASE_URL", ""), conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
    )
    if DATABASES["reports"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["reports"]["ENGINE"] = POSTGRESQL_ENGINE
    DATABASES["reports"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["reports.routers.ReportsReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Django's model backend with a person's permissions read in one query (accounts/backends.py).
# It also runs django-axes' lockout check first (accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.DeskModelBackend"]
# Brute-force protection of every sign-in (web, admin, API token): after LOGIN_FAILURE_LIMIT
# failures for one username, or from one client address, that username or address is locked
# for LOGIN_LOCKOUT_MINUTES (every failure while locked restarts the wait). docs/security.md.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
# Successful sign-ins are not logged by axes (one row per login, never pruned); failures are.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Reverse proxies in front of the desk that append to X-Forwarded-For (0: clients connect
# directly). The lockout and the API throttles count per client address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

REDIS_URL = env_str("REDIS_URL", EMBEDDED_REDIS_URL)
CACHES = {
    "default": {
        # Django's Redis cache, one client per pool (servicedesk/cache.py).
        "BACKEND": "servicedesk.cache.SharedClientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "sd",
        # A request that touches Redis (the intake queue's wake-up) must not hang when Redis is
        # unreachable: it gives up after this and falls back (tickets/intake.py).
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# Sessions are written to PostgreSQL and read from the cache (servicedesk/sessions.py): a
# signed-in request no longer reads its session row. A cached copy lives at most this long.
SESSION_ENGINE = "servicedesk.sessions"
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 600)

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
# API JSON bodies: deeper nesting is refused (servicedesk/parsers.py); keys are capped by
# DATA_UPLOAD_MAX_NUMBER_FIELDS like form fields.
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 32)

# The desk's SMTP backend: Django's, with addresses sanitised once (notifications/smtp.py).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "notifications.smtp.EmailBackend")
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
    # DRF's JSON written by orjson (servicedesk/renderers.py); the browsable API as before.
    "DEFAULT_RENDERER_CLASSES": [
        "servicedesk.renderers.DeskJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "servicedesk.parsers.SafeTextJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Per person and per anonymous address (accounts/throttles.py); the token endpoint has
    # its own `login` rate per address on top of the sign-in lockout.
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttles.DeskAnonRateThrottle",
        "accounts.throttles.DeskUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/minute"),
        "user": env_str("API_THROTTLE_USER", "3000/minute"),
        "login": env_str("API_THROTTLE_LOGIN", "30/minute"),
    },
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
        "StatusEnum": "tickets.choices.Status",
        "ArticleStatusEnum": "knowledge.choices.ArticleStatus",
        "ProblemStatusEnum": "knowledge.choices.ProblemStatus",
        "ArticleLanguageEnum": "knowledge.choices.Language",
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
# Celery's Django fix-up closes the database connections around every task unless this is
# set; then only every 100 tasks. servicedesk/celery.py closes a failed or expired one around
# each task, as Django does around a request.
CELERY_DB_REUSE_MAX = 100
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
    "SWEEP_CHUNK": env_int("SLA_SWEEP_CHUNK", 500),
}
CELERY_BEAT_SCHEDULE["sla.sweep"] = {"task": "sla.sweep", "schedule": SLA["SWEEP_SECONDS"]}
CELERY_BEAT_SCHEDULE["sla.progress_reminders"] = {
    "task": "sla.progress_reminders",
    "schedule": crontab(minute="*/5"),
}
# Auto-close is tickets.tasks.auto_close_resolved; its task name kept the `sla.` prefix.
CELERY_BEAT_SCHEDULE["sla.auto_close_resolved"] = {
    "task": "sla.auto_close_resolved",
    "schedule": crontab(minute=15),
}
# New tickets whose intake reactions wait for a worker (tickets/intake.py); normally a drain
# is woken by the tickets themselves, this catches what a lost message left.
CELERY_BEAT_SCHEDULE["tickets.drain_intake"] = {"task": "tickets.drain_intake", "schedule": 60}
# Reactions that failed are retried with backoff, then parked (tickets/retries.py).
CELERY_BEAT_SCHEDULE["tickets.retry_reactions"] = {
    "task": "tickets.retry_reactions",
    "schedule": 15,
}
# Notifications: failed deliveries whose backoff ended, and rows whose first message was lost.
CELERY_BEAT_SCHEDULE["notifications.deliver_due"] = {
    "task": "notifications.deliver_due",
    "schedule": 60,
}
# Deliveries (SMTP, chat webhooks) run on their own queue and worker: a slow or hung mail
# server never delays intake, routing or the SLA sweep on the default queue.
# Mail polling is channel I/O too: a hung IMAP server waits there, not in front of intake.
CELERY_TASK_ROUTES = {
    "notifications.*": {"queue": "delivery"},
    "mailin.*": {"queue": "delivery"},
}
# Unassigned tickets waiting too long in a team's queue: the team lead is told.
CELERY_BEAT_SCHEDULE["notifications.unassigned_reminders"] = {
    "task": "notifications.unassigned_reminders",
    "schedule": crontab(minute="*/5"),
}
# Closing the loop (feedback.tasks): survey reminders, return-visit and inspection samples.
CELERY_BEAT_SCHEDULE["feedback.survey_reminders"] = {
    "task": "feedback.survey_reminders",
    "schedule": crontab(minute=40),
}
CELERY_BEAT_SCHEDULE["feedback.sample_return_visits"] = {
    "task": "feedback.sample_return_visits",
    "schedule": crontab(hour=1, minute=10),
}
CELERY_BEAT_SCHEDULE["feedback.sample_inspections"] = {
    "task": "feedback.sample_inspections",
    "schedule": crontab(hour=1, minute=20, day_of_week=1),
}
FEEDBACK = {
    "SURVEY_EXPIRY_DAYS": env_int("SURVEY_EXPIRY_DAYS", 14),
    "SURVEY_REMINDER_AFTER_DAYS": env_int("SURVEY_REMINDER_AFTER_DAYS", 3),
    "LOW_SCORE": 2,
    "INSPECTIONS_PER_AGENT_PER_WEEK": env_int("INSPECTIONS_PER_AGENT_PER_WEEK", 3),
}
# The service catalogue (servicecatalog/): what a requester's own statement can reach.
SERVICECATALOG = {
    "REQUESTER_PRIORITY_CAP": env_str("REQUESTER_PRIORITY_CAP", "P2"),
    "FILE_MAX_BYTES": env_int("CATALOGUE_FILE_MAX_BYTES", 10 * 1024 * 1024),
}
# Alerts (alerts.tasks): forget old deliveries, reset storm counts of groups quiet for hours.
CELERY_BEAT_SCHEDULE["alerts.prune"] = {"task": "alerts.prune", "schedule": crontab(minute=40)}
# Major incidents (incidents.tasks): no outage banner outlives its incident's recovery.
CELERY_BEAT_SCHEDULE["incidents.end_stale_outage_banners"] = {
    "task": "incidents.end_stale_outage_banners",
    "schedule": crontab(minute="*/5"),
}
# Reports (reports.tasks, docs/reports.md): the read model follows the operation log every
# minute; spikes and repeated problems hourly; the managers' summary on Monday morning.
CELERY_BEAT_SCHEDULE["reports.refresh_rollups"] = {
    "task": "reports.refresh_rollups",
    "schedule": 60,
}
CELERY_BEAT_SCHEDULE["reports.detect_spikes"] = {
    "task": "reports.detect_spikes",
    "schedule": crontab(minute=5),
}
CELERY_BEAT_SCHEDULE["reports.repeated_problems"] = {
    "task": "reports.repeated_problems",
    "schedule": crontab(minute=35),
}
CELERY_BEAT_SCHEDULE["reports.weekly_summary"] = {
    "task": "reports.weekly_summary",
    "schedule": crontab(day_of_week=1, hour=8, minute=0),
}
# /metrics (reports/metrics.py): a bearer token, or scrapers from these addresses.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])

# The knowledge base (knowledge/, docs/knowledge.md): review interval, automatic retirement.
KNOWLEDGE = {
    "REVIEW_INTERVAL_DAYS": env_int("KNOWLEDGE_REVIEW_INTERVAL_DAYS", 180),
    "RETIRE_UNUSED_AFTER_DAYS": env_int("KNOWLEDGE_RETIRE_UNUSED_AFTER_DAYS", 365),
}
CELERY_BEAT_SCHEDULE["knowledge.review_sweep"] = {
    "task": "knowledge.review_sweep",
    "schedule": crontab(hour=3, minute=10),
}
CELERY_BEAT_SCHEDULE["knowledge.term_stats"] = {"task": "knowledge.term_stats", "schedule": 3600}

# Where SLA decisions read "now": "database" (PostgreSQL's clock, one clock for every web and
# worker process, servicedesk/clock.py) or "process" (this process's clock: the test suite's,
# which moves time with time-machine).
DESK_CLOCK = "database"

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
    # The domain of the desk's own Message-IDs (<SD-2026-000123@DOMAIN>), the key of mail threading.
    "MAIL_DOMAIN": env_str("MAIL_DOMAIN", DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"),
    # The first wait before a failed e-mail or webhook is sent again (doubling, at most 1 h).
    "NOTIFICATION_RETRY_SECONDS": env_int("NOTIFICATION_RETRY_SECONDS", 30),
    # Minutes a ticket may wait unassigned in a team's queue before the lead is told.
    "UNASSIGNED_ALERT_MINUTES": env_int("UNASSIGNED_ALERT_MINUTES", 30),
    # Attempts before a failing reaction is parked for an administrator (tickets/retries.py).
    "REACTION_MAX_ATTEMPTS": env_int("REACTION_MAX_ATTEMPTS", 8),
}
# Inbound e-mail (mailin/, docs/mail.md): polling, source size kept, new tickets per sender.
MAILIN = {
    "POLL_SECONDS": env_int("MAIL_POLL_SECONDS", 60),
    "RAW_MAX_BYTES": env_int("MAIL_RAW_MAX_BYTES", 2 * 1024 * 1024),
    "MESSAGE_MAX_BYTES": env_int("MAIL_MESSAGE_MAX_BYTES", 40 * 1024 * 1024),
    "MAX_BACKOFF_SECONDS": env_int("MAIL_MAX_BACKOFF_SECONDS", 3600),
    "POLL_WORKERS": env_int("MAIL_POLL_WORKERS", 4),
    "MAX_PER_POLL": env_int("MAIL_MAX_PER_POLL", 5000),
}
CELERY_BEAT_SCHEDULE["mailin.poll_mailboxes"] = {
    "task": "mailin.poll_mailboxes",
    "schedule": MAILIN["POLL_SECONDS"],
}

# The status page (/status/) is readable without login when true (incidents app).
STATUS_PAGE_PUBLIC = env_bool("STATUS_PAGE_PUBLIC", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
