# Govern: the two commands are `make run` and `make test`. Everything installs into ./.venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test install install-dev lint format check migrate seed serve bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Govern needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed ## Install the application into .venv

install-dev: $(VENV)/.installed-dev ## Install the application and the dev tools into .venv

migrate: install ## Apply database migrations
	$(PY) manage.py migrate --noinput

seed: migrate ## Load the demo organisation (idempotent)
	$(PY) manage.py seed_demo

run: seed ## Install, migrate, load the demo and serve on http://127.0.0.1:8000
	@echo ""
	@echo "  Govern is starting on http://$(HOST):$(PORT)/ (log in with a demo login above)."
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install-dev ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev ## Format the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: install-dev ## Django system checks and the migrations check
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

test: install-dev lint check ## Install with the dev extra, lint, check, and run the whole suite
	$(VENV)/bin/pytest $(PYTEST_ARGS)

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/govern_bench
BENCH_ENV := DATABASE_URL="$(BENCH_DATABASE_URL)" DJANGO_DEBUG=false DJANGO_LOG_LEVEL=WARNING REDIS_URL=

bench: install-dev ## Benchmark the KPI engine and pages on PostgreSQL (figures go to docs/performance.md)
	@$(PY) -m benchmarks.database "$(BENCH_DATABASE_URL)"
	@$(BENCH_ENV) $(PY) manage.py migrate --noinput >/dev/null
	$(BENCH_ENV) $(PY) manage.py bench $(BENCH_ARGS) --write docs/performance.md

clean: ## Remove the virtualenv, the local database and caches
	rm -rf $(VENV) govern.sqlite3 govern.sqlite3-* staticfiles .pytest_cache .ruff_cache
