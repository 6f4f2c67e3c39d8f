# syntax=docker/dockerfile:1
# The production image. Web (gunicorn), worker and beat all run from it; docker-compose.yml gives
# each its command, and docker/entrypoint.sh migrates only for the web one.
# Two stages: the build stage has gettext and pip's download cache, the runtime stage only the
# virtualenv, the code, the compiled catalogues and the collected static files.
# https://docs.docker.com/build/building/multi-stage/

ARG PYTHON_IMAGE=python:3.11-slim

# BUILD
# ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production

# gettext's msgfmt is what `manage.py compilemessages` runs; python-ldap (the directory sign-in) is
# built against OpenLDAP's and SASL's headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext build-essential libldap2-dev libsasl2-dev \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
WORKDIR /app

# With only pyproject.toml in place, `pip install .` installs exactly the declared dependencies (the
# project's own packages are not copied yet), so this layer is rebuilt only when they change. The
# empty "baton" distribution is then removed: the code runs from /app, never from site-packages,
# because BASE_DIR (var/, locale/, staticfiles/, .env) is derived from config/settings/base.py's path.
COPY pyproject.toml ./
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install ".[ldap]" \
    && pip uninstall --yes baton \
    && rm -rf build ./*.egg-info

COPY . .

# Translation catalogues: compiled when the project has any (no locale/ folder yet is fine).
# The dummies satisfy the production settings only for this step; they are not kept in the image.
RUN if find . -name '*.po' -not -path './.venv/*' | grep -q .; then \
        DJANGO_SECRET_KEY=build-time-dummy-not-a-secret DJANGO_ALLOWED_HOSTS=localhost \
        BATON_CUSTOMER_KEYS=YnVpbGQtdGltZS1kdW1teS1ub3QtYS1rZXktMDAwMDA= BATON_CUSTOMER_INDEX_KEY=build-time-dummy \
        python manage.py compilemessages; \
    else \
        echo "No .po files: no translation catalogues to compile."; \
    fi

# Static files, hashed and compressed by whitenoise's manifest storage, baked into the image so the
# web container needs no shared volume. Same build-time dummies as above.
RUN DJANGO_SECRET_KEY=build-time-dummy-not-a-secret DJANGO_ALLOWED_HOSTS=localhost \
        BATON_CUSTOMER_KEYS=YnVpbGQtdGltZS1kdW1teS1ub3QtYS1rZXktMDAwMDA= BATON_CUSTOMER_INDEX_KEY=build-time-dummy \
    python manage.py collectstatic --noinput

# Byte-code once at build time: the runtime user cannot write __pycache__ into the root-owned /app.
RUN python -m compileall -q /app \
    && chmod 0755 docker/entrypoint.sh

# RUNTIME
# ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    HOME=/home/baton \
    DJANGO_SETTINGS_MODULE=config.settings.production

# A fixed numeric id so that orchestrators can check runAsNonRoot and volumes can be chowned to it.
# A writable home: gunicorn (25.1+) puts its control socket in ~/.gunicorn/ (for `gunicornc`).
RUN groupadd --system --gid 10001 baton \
    && useradd --system --uid 10001 --gid baton --home-dir /home/baton --create-home \
       --shell /usr/sbin/nologin baton

# The shared libraries python-ldap was built against (OpenLDAP's package is libldap2 from Debian 13,
# libldap-2.5-0 in Debian 12).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsasl2-2 \
    && (apt-get install -y --no-install-recommends libldap2 || apt-get install -y --no-install-recommends libldap-2.5-0) \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The code stays owned by root (read-only for the app user); only var/ is writable, for the
# settings' single-machine fallbacks (SQLite, file cache), unused when DATABASE_URL/REDIS_URL are set.
COPY --from=build /app /app
RUN mkdir -p /app/var && chown baton:baton /app/var

USER 10001:10001

EXPOSE 8000

# /healthz through gunicorn; the slim image has no curl, so python's urllib (docker/healthcheck.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
# gunicorn reads the number of workers from WEB_CONCURRENCY itself (default 1).
# /dev/shm for the worker heartbeat files: /tmp may be a slow overlay disk in a container.
# https://docs.gunicorn.org/en/stable/settings.html#workers
# The access log leaves out query strings and referrers: a customer lookup carries the phone or the
# customer number there (?customer_phone=, the admin's ?q=), and phones are never logged in clear.
CMD ["gunicorn", "config.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--access-logformat", "%(h)s %(l)s %(u)s %(t)s \"%(m)s %(U)s %(H)s\" %(s)s %(b)s \"%(a)s\""]
