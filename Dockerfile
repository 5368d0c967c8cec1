FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext flite sox \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock

COPY . .
# Build-time only values: settings must load for compilemessages and collectstatic, and the
# production static storage writes the manifest that the running portal reads.
RUN python manage.py compilemessages --ignore=.venv -v0 \
    && DJANGO_ENV=production SECRET_KEY=build-only-0123456789abcdefghijklmnopqrstuvwxyz0123 \
       ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
       SMS_GATEWAY_URL=http://build SMS_GATEWAY_SECRET=build \
       python manage.py collectstatic --no-input -v0

RUN useradd --system --home /app beian && mkdir -p /app/var && chown -R beian /app/var
USER beian
EXPOSE 8000
CMD ["gunicorn", "beian.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
