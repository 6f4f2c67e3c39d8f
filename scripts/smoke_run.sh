#!/usr/bin/env bash
# Smoke test of the README's first command: `make run` with no database or broker server.
# Waits for /healthz, the admin login page and a heartbeat that went beat → broker → worker.
set -euo pipefail
unset DATABASE_URL REDIS_URL
port="${SMOKE_PORT:-18123}"
log="$(mktemp -t baton-run.XXXXXX.log)"
rm -f var/baton.sqlite3*

BATON_PORT="$port" setsid make run >"$log" 2>&1 < /dev/null &
pgid=$!
cleanup() { kill -TERM -- "-$pgid" 2>/dev/null || true; sleep 3; kill -KILL -- "-$pgid" 2>/dev/null || true; }
trap cleanup EXIT

base="http://127.0.0.1:$port"
deadline=$((SECONDS + 300))
step() { echo "smoke: $*"; }
until curl -fsS "$base/healthz" >/dev/null 2>&1; do
  (( SECONDS < deadline )) || { step "web never answered"; tail -50 "$log"; exit 1; }
  kill -0 "$pgid" 2>/dev/null || { step "make run exited"; tail -50 "$log"; exit 1; }
  sleep 2
done
step "/healthz ok"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/admin/login/")
[[ "$code" == 200 ]] || { step "admin login page answered $code"; exit 1; }
step "admin login page ok"
# The heartbeat is scheduled every 30 s; give beat and worker up to two minutes.
deadline=$((SECONDS + 120))
until curl -fsS "$base/readyz" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["checks"]["heartbeat"]["ok"] else 1)' 2>/dev/null; do
  (( SECONDS < deadline )) || { step "no heartbeat through the worker"; curl -s "$base/readyz"; tail -80 "$log"; exit 1; }
  sleep 3
done
step "heartbeat went beat → broker → worker: $(curl -fsS "$base/readyz")"
# Ctrl-C, as the terminal sends it to the foreground group: every process stops by itself, none killed.
kill -INT -- "-$pgid"
deadline=$((SECONDS + 40))
while kill -0 "$pgid" 2>/dev/null; do
  (( SECONDS < deadline )) || { step "make run still running 40 s after Ctrl-C"; tail -30 "$log"; exit 1; }
  sleep 1
done
if grep -q "SIGKILL" "$log"; then step "Ctrl-C: a process had to be killed"; tail -30 "$log"; exit 1; fi
grep -q "worker.1 stopped (rc=0)" "$log" || { step "Ctrl-C: the worker did not stop cleanly"; tail -30 "$log"; exit 1; }
step "Ctrl-C stopped web, worker and beat, none killed"
