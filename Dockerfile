# The desk's one image: web (gunicorn), Celery worker, Celery beat and the one-shot migrate
# all run it with different commands (see docker-compose.yml).
FROM python:3.11-slim

# PYTHONPATH: the source tree in /app comes before the installed copy, so BASE_DIR is /app.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=servicedesk.settings.production \
    MEDIA_ROOT=/data/media \
    CLASSIFIER_MODEL_DIR=/data/models

WORKDIR /app

# Dependencies first (pinned by constraints.txt), so code changes do not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir -p servicedesk && touch servicedesk/__init__.py \
    && pip install -c constraints.txt . \
    && rm -rf servicedesk build

COPY . .

# Static files and translations are build output: made once here, never at start-up.
# collectstatic only needs importable settings, so build-time placeholders are enough.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput -v0 \
    && SECRET_KEY=build-only ALLOWED_HOSTS=localhost python manage.py compilemessages_if_needed

RUN useradd --system --uid 10001 --home-dir /app servicedesk \
    && mkdir -p /data/media /data/models \
    && chown -R servicedesk:servicedesk /data
USER servicedesk

EXPOSE 8000
VOLUME ["/data"]
CMD ["gunicorn", "servicedesk.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", "--threads", "4", "--reuse-port", "--access-logfile", "-", "--timeout", "60"]
