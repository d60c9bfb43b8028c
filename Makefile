# unionfunds — the two commands are `make run` and `make test`; `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# System packages. What the app needs to run: WeasyPrint's pango and harfbuzz-subset, and a CJK font
# (without it the PDF reports lose their Chinese). What the suite needs on top: pdffonts/pdftotext/pdftoppm,
# Chromium for the browser tests, gettext for the catalogue.
RUNTIME_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk
TEST_PACKAGES := poppler-utils chromium gettext
PYTEST_ARGS ?=

.PHONY: help run test bench loadtest lint format check-deploy sysdeps rundeps apt venv migrate seed worker messages clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-14s %s\n", $$1, $$2}'

run: rundeps venv .env migrate seed ## set up everything and serve on http://127.0.0.1:8000 with a worker
	scripts/dev-server

test: sysdeps venv .env ## install what is missing and run lint + the whole suite
	mkdir -p var/staticfiles var/media
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv .env ## province-scale benchmark on PostgreSQL (own database, seeded once): docs/benchmarks.md, bench/results.json
	scripts/bench $(BENCH_ARGS)

loadtest: venv .env ## deadline day under load: locust against gunicorn + worker at province scale (LOADTEST_ARGS="--minutes 10")
	$(BIN)/pip install -q -r requirements-loadtest.txt
	scripts/loadtest $(LOADTEST_ARGS)

lint: venv ## ruff check and format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: venv ## ruff fix and format
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

check-deploy: venv ## Django's deployment checks under the production settings of docs/operations.md
	scripts/check-deploy

migrate: venv .env ## apply migrations (SQLite under var/ unless DATABASE_URL is set)
	mkdir -p var/staticfiles var/media
	$(BIN)/python manage.py migrate --noinput

seed: venv .env ## load regions and demo data, print the demo accounts
	$(BIN)/python manage.py seed_demo

worker: venv .env ## a Celery worker alone (production shape: one per machine, see README)
	$(BIN)/celery -A unionfunds worker --loglevel=INFO --prefetch-multiplier=1

messages: venv ## update the English catalogue (no line numbers, so branches merge) and compile it
	$(BIN)/python manage.py makemessages -l en --no-location --ignore=.venv --ignore=var --ignore=test-artifacts
	$(BIN)/python manage.py compilemessages --ignore=.venv

rundeps: ## apt-get the system packages the app needs to run (pango, harfbuzz-subset, CJK font), when any is missing
	@$(MAKE) --no-print-directory apt PACKAGES="$(RUNTIME_PACKAGES)"

sysdeps: ## apt-get the system packages the app and the suite need, when any is missing
	@$(MAKE) --no-print-directory apt PACKAGES="$(RUNTIME_PACKAGES) $(TEST_PACKAGES)"

apt:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

.env: ## development settings with fresh random keys (never used in production)
	@printf 'DEBUG=1\nSECRET_KEY=%s\nID_HASH_KEY=%s\n' "$$(head -c 32 /dev/urandom | base64)" "$$(head -c 32 /dev/urandom | base64)" > .env
	@echo "wrote .env (development settings)"

clean: ## remove the virtualenv, the SQLite database and generated files
	rm -rf $(VENV) var .pytest_cache .ruff_cache
