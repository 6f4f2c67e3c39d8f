# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint fmt migrations bench bench-calendar clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## make run: the whole system (web + worker + beat) with demo data; SQLite and a file broker by default.
run: install
	@mkdir -p var/broker/queue var/broker/processed var/broker/control
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_schedules
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Baton is starting at http://127.0.0.1:$${BATON_PORT:-8000}/admin/"
	@echo "  Demo logins (password: demo): call_center_agent, card_center_agent, card_center_lead,"
	@echo "    <department>_agent / <department>_lead, quality_officer, auditor, admin"
	@echo "  Ctrl-C stops web, worker and beat."
	@echo ""
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile.dev start

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

clean:
	rm -rf var/*.sqlite3* var/broker var/cache
