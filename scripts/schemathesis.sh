#!/usr/bin/env bash
# Fuzz the live API against its own OpenAPI schema with schemathesis: every operation, stateful
# where the schema links operations, every check (schemathesis.toml: all of them; SCHEMATHESIS_CHECKS narrows it),
# with zero failures allowed. schemathesis.toml lists the few operations whose rules the schema cannot
# say (rules between fields, ids of existing rows), where a schema-valid request may get a 400.
#
# Starts gunicorn on 127.0.0.1:${SCHEMATHESIS_PORT:-8061} over a fresh SQLite database with the demo
# organisation, a few cases in every state and a token, runs `schemathesis run`, stops the server.
# Bounded (--max-examples) to finish within about five minutes on two cores. One schemathesis worker:
# with several threads, CPython 3.11's ast.parse (hypothesis describing its filters) can fail with
# "AST constructor recursion depth mismatch", an error of the tool and not of the API.
#
#   bash scripts/schemathesis.sh                  # the CI run
#   MAX_EXAMPLES=200 bash scripts/schemathesis.sh  # a longer hunt
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
PY="${PY:-$root/.venv/bin/python}"
ST="${ST:-$root/.venv/bin/schemathesis}"
port="${SCHEMATHESIS_PORT:-8061}"
max_examples="${MAX_EXAMPLES:-60}"
work="$(mktemp -d -t baton-schemathesis.XXXXXX)"

unset REDIS_URL
export DJANGO_SETTINGS_MODULE=config.settings.test
export DATABASE_URL="sqlite:///$work/api.sqlite3"
export CELERY_TASK_ALWAYS_EAGER=true

server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "schemathesis: database $work/api.sqlite3"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py shell -c '
from departments.demo import seed_organisation
from processes.demo import seed_processes
from django.contrib.auth import get_user_model
from processes import services
from processes.models import Case, Handoff

seed_organisation()
procs = seed_processes()
U = get_user_model().objects.get
call, card = U(username="call_center_agent"), U(username="card_center_agent")

def open_case(n, process="COMPLAINT"):
    return services.case_open(process=procs[process], actor=call, title=f"demo case {n}", channel="phone",
                              customer_name="张小三", customer_phone="13812345678", customer_id=f"C-{n:08d}",
                              source="demo", external_id=f"demo-{n}")[0]

def handoff(case):
    return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)

for n in range(3):
    open_case(n)                                          # pending at the call center
for n in range(3, 6):
    case = open_case(n)
    services.handoff_accept(handoff=handoff(case), actor=call)
    services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=call)
    if n > 3:
        services.handoff_accept(handoff=handoff(case), actor=card)
        if n > 4:
            services.case_resolve(case=case, actor=card, resolution="fee waived", recovery_measure="fee_waiver")
open_case(6, "CARD_DISPUTE")
print("schemathesis: demo data", Case.objects.count(), "cases,", Handoff.objects.count(), "handoffs")
' 2>"$work/seed.log" | grep "^schemathesis:" || { cat "$work/seed.log"; exit 1; }
token="$("$PY" manage.py create_api_token quality_officer 2>/dev/null)"

"$PY" -m gunicorn config.wsgi:application --bind "127.0.0.1:$port" --workers 2 --timeout 60 \
  --log-level warning >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
up=""
for _ in $(seq 1 120); do
  kill -0 "$server_pid" 2>/dev/null || { echo "schemathesis: server died"; cat "$work/server.log"; exit 1; }
  curl -fsS "$base/healthz" >/dev/null 2>&1 && { up=1; break; }
  sleep 0.5
done
[[ -n "$up" ]] || { echo "schemathesis: server did not answer at $base"; cat "$work/server.log"; exit 1; }
sleep 1  # a server that lost the port to another one exits now; make sure ours is the one answering
if ! kill -0 "$server_pid" 2>/dev/null || grep -q "Connection in use" "$work/server.log"; then
  echo "schemathesis: port $port is taken (SCHEMATHESIS_PORT picks another)"; cat "$work/server.log"; exit 1
fi
echo "schemathesis: server up at $base"

set +e
# From the scratch folder: schemathesis keeps its cache (.schemathesis/) in the working directory.
(cd "$work" && "$ST" --config-file "$root/schemathesis.toml" run "$base/api/schema/?format=json" \
  --header "Authorization: Token $token" \
  ${SCHEMATHESIS_CHECKS:+--checks "$SCHEMATHESIS_CHECKS"} \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$max_examples" \
  --generation-with-security-parameters false \
  --generation-database none \
  --request-timeout 20 \
  --workers 1 \
  --seed "${SCHEMATHESIS_SEED:-20261101}" \
  --no-color)
status=$?
set -e
if grep -q "Traceback" "$work/server.log"; then
  echo "schemathesis: the server logged tracebacks:"
  grep -B2 -A30 "Traceback" "$work/server.log" | head -120
  status=1
fi
exit "$status"
