# The production image: gunicorn serves the application, WhiteNoise its static files.
# The same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV DJANGO_SETTINGS_MODULE=comadvisor.settings \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/var/media

WORKDIR /app

RUN groupadd --system app && useradd --system --gid app --home-dir /app app

# PDF rendering (WeasyPrint) needs Pango and fonts from the system.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Static files are collected at build time; the SECRET_KEY here is a throwaway used by this step
# only. The settings pick WhiteNoise's compressed, hashed storage when STATIC_ROOT holds a
# staticfiles.json, so an empty manifest is laid first: collectstatic then writes the real one.
# The code stays root-owned; the app user writes only in var/ (media, a named volume).
RUN mkdir -p "$STATIC_ROOT" \
    && echo '{"paths": {}, "version": "1.1"}' > "$STATIC_ROOT/staticfiles.json" \
    && SECRET_KEY=build-only-not-used-at-run-time python manage.py collectstatic --noinput \
    && mkdir -p "$MEDIA_ROOT" \
    && chown -R app:app "$VAR_DIR"

USER app

EXPOSE 8000

# WEB_CONCURRENCY (read by gunicorn itself) sets the number of workers.
CMD ["gunicorn", "comadvisor.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
