# Leadflow: `make run` sets up and starts the app, `make test` sets up and runs every check.
# `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra pytest arguments for both passes, e.g. make test PYTEST_ARGS="-x -k quote".
PYTEST_ARGS ?=
export HOST PORT PYTEST_ARGS

.PHONY: help venv run test test-sqlite test-postgres lint fmt check-deploy collectstatic-check messages \
	migrate bench clean deps-run deps-test

help:
	@echo "make run            set up, migrate, load demo data, start web app + task worker"
	@echo "make test           install what tests need, then lint, checks, pytest on SQLite and PostgreSQL"
	@echo "make test-sqlite    pytest on SQLite only (PYTEST_ARGS=... to pass arguments)"
	@echo "make test-postgres  pytest on a throwaway PostgreSQL 15 cluster only"
	@echo "make lint           ruff format --check and ruff check"
	@echo "make fmt            ruff format and ruff check --fix"
	@echo "make check-deploy   manage.py check --deploy with the production settings"
	@echo "make bench          run the benchmarks (bench/run.py)"
	@echo "make clean          remove the venv, caches and collected static files (keeps db.sqlite3)"

# --- setup -----------------------------------------------------------------------------

# What WeasyPrint needs to render quote PDFs.
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core

venv:
	@scripts/ensure-venv.sh
	@scripts/ensure-assets.sh

deps-run:
	@scripts/apt-ensure.sh gettext $(PDF_DEBS)

deps-test:
	@scripts/apt-ensure.sh gettext chromium postgresql dovecot-imapd $(PDF_DEBS)

# --- run -------------------------------------------------------------------------------

run: venv deps-run
	$(MANAGE) migrate --no-input
	$(MANAGE) load_demo --if-empty
	$(MAKE) --no-print-directory messages
	@scripts/run.sh

migrate: venv
	$(MANAGE) migrate --no-input

# Compile the .po catalogues into .mo files (Django's own, inside .venv, are left alone).
messages: venv
	@command -v msgfmt >/dev/null || scripts/apt-ensure.sh gettext
	@if [ -z "$$(find locale leadflow -name '*.po' -print -quit 2>/dev/null)" ]; then \
		echo "No translation catalogues (.po) yet: nothing to compile."; \
	else \
		echo "$(MANAGE) compilemessages"; \
		$(MANAGE) compilemessages --ignore='.venv' --ignore='node_modules' -v 0; \
	fi

# --- tests and checks ------------------------------------------------------------------

test: venv deps-test
	@scripts/test.sh

test-sqlite: venv
	DATABASE_URL= scripts/pytest.sh $(PYTEST_ARGS)

test-postgres: venv
	@scripts/apt-ensure.sh postgresql
	scripts/with-postgres.sh scripts/pytest.sh $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff format --check --output-format concise .
	$(VENV)/bin/ruff check --output-format concise .

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: venv
	DJANGO_SETTINGS_MODULE=config.settings.prod ALLOWED_HOSTS=example.com DATABASE_URL= \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	$(MANAGE) check --deploy --fail-level WARNING

# collectstatic with the production storage (hashed names, compressed): it follows every
# reference inside CSS and JS files, so a missing file fails here and not at deploy time.
collectstatic-check: venv
	DJANGO_SETTINGS_MODULE=config.settings.prod ALLOWED_HOSTS=example.com DATABASE_URL= \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
	$(MANAGE) collectstatic --no-input --clear -v 0

# --- other -----------------------------------------------------------------------------

bench: venv
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
