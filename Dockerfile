# Govern application image: the same image runs the web server, the Celery workers and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=govern.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 govern

COPY pyproject.toml README.md ./
COPY govern ./govern
COPY kpis ./kpis
COPY dependencies ./dependencies
COPY decisions ./decisions
RUN pip install --upgrade pip && pip install .

COPY manage.py ./
COPY templates ./templates
COPY static ./static
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

USER govern
EXPOSE 8000
CMD ["gunicorn", "govern.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
