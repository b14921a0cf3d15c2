"""`make test`: the same PostgreSQL and Redis as local, a fast password hasher, mail in memory."""

from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403
from .base import BASE_DIR, SERVICEDESK, SLA
from .base import CACHES as _BASE_CACHES
from .base import REDIS_URL as _BASE_REDIS_URL
from .env import env_int, env_list, env_str

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In memory, except where a test runs a real worker against a real SMTP server (aiosmtpd).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
MEDIA_ROOT = BASE_DIR / ".data" / "test-media"
SERVICEDESK = {
    **SERVICEDESK,
    "CLASSIFIER_MODEL_DIR": str(BASE_DIR / ".data" / "test-models"),
    # Reactions run in-process right after commit, so a test sees them without a worker; the
    # worker path is tested with a real worker (tests/tickets/test_reactions_in_worker.py).
    "REACTIONS_IN_WORKER": env_list("REACTIONS_IN_WORKER", []),
}
# Mail is taken in the test's own transaction (one thread); the threaded path is tested with
# real connections (tests/mailin/test_concurrency.py).
MAILIN = {**MAILIN, "POLL_WORKERS": 1}  # noqa: F405
# Tests use their own Redis database number so they never see `make run`'s queues.
TEST_REDIS_DB = env_int("TEST_REDIS_DB", 15)
REDIS_URL = urlunsplit(urlsplit(_BASE_REDIS_URL)._replace(path=f"/{TEST_REDIS_DB}"))
CACHES = {"default": {**_BASE_CACHES["default"], "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL

# Static files from the finders, no collectstatic run needed (and no "No directory" warning).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Separate test database names let several test runs share one server (e.g. parallel checkouts).
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DB_NAME", "test_servicedesk")}  # noqa: F405

# The suite signs in and calls the API far more often than a person: the lockout and the
# throttles are tested with their own limits (tests/security/test_brute_force.py).
AXES_FAILURE_LIMIT = 5
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "anon": "100000/minute",
        "user": "100000/minute",
        "login": "100000/minute",
    },
}
# Imported holiday schedules are reloaded by the importing process only: a periodic reload in
# the middle of a request would add a query to the query-count budgets (sla/holidays.py).
SLA = {**SLA, "HOLIDAY_REFRESH_SECONDS": None}
# The suite moves time with time-machine, which cannot move PostgreSQL's clock; the clock-step
# tests (tests/sla/test_clock_steps.py) switch back to the database's.
DESK_CLOCK = "process"
