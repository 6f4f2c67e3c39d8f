# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install catalogues messages lint fmt migrations bench bench-calendar bench-api bench-engine bench-sla bench-scope bench-evaluations bench-live clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# The directory sign-in (LDAP) is an extra: python-ldap needs OpenLDAP's headers to build.
	if [ -e /usr/include/ldap.h ]; then $(PY) -m pip install --quiet -e ".[dev,ldap]"; \
	else echo "LDAP sign-in left out: apt-get install libldap2-dev libsasl2-dev, then make install"; \
	  $(PY) -m pip install --quiet -e ".[dev]"; fi
	@touch $(STAMP)

install: $(STAMP) catalogues

## Translation catalogues are compiled at install time with Babel (pure Python: no gettext needed).
catalogues: $(STAMP)
	@$(VENV)/bin/pybabel compile --domain django --directory locale --statistics 2>&1 | grep -v "^$$" || true

## make run: the whole system (web + worker + beat) with demo data; SQLite and a file broker by default.
run: install
	@mkdir -p var/broker/queue var/broker/processed var/broker/control
	@# System checks once (their warnings say what to do), not again by every command below.
	$(PY) manage.py check
	$(PY) manage.py migrate --noinput --skip-checks
	$(PY) manage.py setup_schedules --skip-checks
	$(PY) manage.py seed_demo --skip-checks
	@echo ""
	@echo "  Baton is starting at http://127.0.0.1:$${BATON_PORT:-8000}/admin/"
	@echo "  Demo logins (password: demo): call_center_agent, card_center_agent, card_center_lead,"
	@echo "    <department>_agent / <department>_lead, quality_officer, auditor, admin"
	@echo "  Ctrl-C stops web, worker and beat."
	@echo ""
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/run_dev.py

## make test: install what the tests need and run the whole suite (PostgreSQL/Redis if DATABASE_URL/REDIS_URL).
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations: install
	$(PY) manage.py makemigrations --check --dry-run

## make bench: performance figures (ratios against a baseline measured in the same run).
bench: install
	$(PY) bench/calendar_bench.py
	$(MAKE) --no-print-directory bench-sla
	$(MAKE) --no-print-directory bench-evaluations

## make bench-api: a case's full life through the API under load on PostgreSQL, next to pgbench -N.
bench-api: install
	$(PY) bench/api_bench.py

## make bench-engine: a case's full life through the services (no HTTP) by 2 and 8 worker processes on
## PostgreSQL, next to pgbench -N at the same client counts and to the same life as a viewflow flow
## (../shared/peers/viewflow/run.sh, skipped when missing). Recreates and drops baton_bench_engine and
## pgbench_baton_engine; about 5 minutes on 2 cores.
bench-engine: install
	$(PY) bench/engine_bench.py

## make bench-sla: the SLA sweep over 1,000,000 open handoffs (1% newly breached) next to hand-written
## set-based SQL doing the same writes (breach stamps, escalation, events, one outbox row per handoff and
## kind into BENCH_OUTBOX_TABLE, by default a scratch table). Needs the local PostgreSQL (BENCH_PG,
## default postgres://postgres@127.0.0.1:5432); recreates and drops the database baton_bench_sla;
## 2–5 minutes on 2 cores.
bench-sla: install
	$(PY) bench/sla_bench.py

## make bench-scope: a department user's case scope (department part vs + cases it opened), JIT on and
## off, over 200,000 cases. Needs the local PostgreSQL; recreates and drops baton_bench_scope; ~2 minutes.
bench-scope: install
	$(PY) bench/scope_bench.py

## make bench-evaluations: one month for 100 departments over 1,000,000 handoffs (evaluation_compute_period)
## next to the same aggregates as one hand-written SQL query. Needs the local PostgreSQL
## (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/baton_bench_eval, created and kept).
bench-evaluations: install
	$(PY) bench/evaluations_bench.py

## make bench-live: the live operations page's data (processes.live) at 100,000 cases (BENCH_CASES) with
## 300,000 handoffs, for the quality office and for a lead: median and worst of 9 runs, queries, and the
## < 300 ms goal. Needs the local PostgreSQL (BENCH_PG); recreates and drops baton_bench_live; ~1 minute.
bench-live: install
	$(PY) bench/live_bench.py

## make messages: extract strings into the catalogues (needs GNU gettext's xgettext).
messages: install
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=staticfiles

clean:
	rm -rf var/*.sqlite3* var/broker var/cache
