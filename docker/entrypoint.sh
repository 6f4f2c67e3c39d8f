#!/usr/bin/env bash
# Entrypoint of the production image: wait for the database; in the web role also apply the
# migrations and install the beat schedule (core/beat.py); then exec the command, so that it runs
# as PID 1 and receives docker's SIGTERM itself (gunicorn and celery both shut down gracefully on it).
#
# Role: $BATON_ROLE if set (web, worker, beat, or anything else), otherwise taken from the first
# argument: `gunicorn ...` (the image's default command) is the web role, anything else is not.
# Only the web role migrates, so that exactly one container changes the schema and scaled workers
# never race it; docker-compose.yml starts worker and beat once web is healthy, i.e. migrated.
#   docker run IMAGE                                      web: wait, migrate, setup_schedules, gunicorn
#   docker run IMAGE celery -A config.celery_app worker   wait, then the worker
#   docker run -e BATON_ROLE=web IMAGE python manage.py check --deploy   migrate first, then the check
set -euo pipefail

log() { printf 'entrypoint: %s\n' "$*" >&2; }

if [[ $# -eq 0 ]]; then
  log "no command given"
  exit 64
fi

role="${BATON_ROLE:-}"
if [[ -z "$role" ]]; then
  case "$(basename -- "$1")" in
    gunicorn) role=web ;;
    *) role=other ;;
  esac
fi

# Polls through Django itself, so it honours DATABASE_URL exactly as the settings parse it.
wait_for_database() {
  python - <<'PY'
import os
import sys
import time

import django

django.setup()
from django.db import connections
from django.db.utils import OperationalError

timeout = float(os.environ.get("DATABASE_WAIT_SECONDS", "60"))
deadline = time.monotonic() + timeout
connection = connections["default"]
while True:
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        if time.monotonic() >= deadline:
            print(f"entrypoint: database not reachable after {timeout:.0f}s: {reason}", file=sys.stderr)
            sys.exit(1)
        print(f"entrypoint: waiting for the database: {reason}", file=sys.stderr)
        time.sleep(2)
    else:
        connection.close()
        break
PY
}

log "role: $role"
wait_for_database
log "database is reachable"

if [[ "$role" == web ]]; then
  # Migrations run as the owner role (DATABASE_OWNER_URL), which then grants the app role
  # (DATABASE_URL's user) what it needs and nothing that could undo the append-only tables.
  if [[ -n "${DATABASE_OWNER_URL:-}" ]]; then
    app_role="$(python -c 'import os, urllib.parse; print(urllib.parse.unquote(urllib.parse.urlsplit(os.environ["DATABASE_URL"]).username or ""))')"
    DATABASE_URL="$DATABASE_OWNER_URL" python manage.py migrate --noinput
    DATABASE_URL="$DATABASE_OWNER_URL" python manage.py grant_app_role "$app_role"
  else
    log "DATABASE_OWNER_URL is not set: migrating as the app's own role (one role, not split)"
    python manage.py migrate --noinput
  fi
  # Creates missing periodic tasks only: edits made in the admin survive a redeploy.
  python manage.py setup_schedules
fi

exec "$@"
