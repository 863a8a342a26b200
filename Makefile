# Tessera — every target sets itself up: a fresh machine needs only Python 3.11 and PyPI.
PYTHON ?= python3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synced
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help run test test-fast lint fmt bench bench-http soak migrations-check migrate screenshots clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/ —/'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)  ## serve on http://127.0.0.1:8000 (SQLite, no Redis), demo tenant on first start
	$(VENV)/bin/tessera migrate --no-input -v 0
	$(VENV)/bin/tessera bootstrap-demo
	$(VENV)/bin/tessera serve

test: $(STAMP)  ## the whole suite (PostgreSQL + Redis when TESSERA_TEST_DATABASE_URL / TESSERA_TEST_REDIS_URL are set)
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q -p no:cacheprovider --ignore=tests/engine
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/engine --cov=tessera.engine --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100
	cd clients/python && TESSERA_E2E_REQUIRED=1 ../../$(VENV)/bin/pytest -q -c pyproject.toml

lint: $(STAMP)  ## ruff lint + format check (server and client), layers (import-linter), mypy (django-stubs) on the whole package
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	cd clients/python && ../../$(VENV)/bin/ruff check . && ../../$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy src/tessera
	$(VENV)/bin/tessera makemigrations --check --dry-run

fmt: $(STAMP)  ## format and autofix
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: $(STAMP)  ## run the benchmarks and print the numbers (see docs/benchmarks.md); includes bench-http
	$(PY) -m benchmarks

# PostgreSQL + Redis from TESSERA_DATABASE_URL / TESSERA_REDIS_URL (defaults: .../tessera_bench on
# 127.0.0.1:5432, redis://127.0.0.1:6379/0); needs wrk (apt-get install -y wrk)
bench-http: $(STAMP)  ## the HTTP suite under wrk (PG + Redis, SQLite); ARGS="--rows check,me --db postgres --duration 10"
	$(PY) -m benchmarks.http $(ARGS)

soak: $(STAMP)  ## 10 minutes (SOAK_SECONDS) of mixed traffic on PostgreSQL + Redis (TESSERA_DATABASE_URL, TESSERA_REDIS_URL); numbers to docs/benchmarks.md
	$(PY) -m benchmarks.soak --write

migrations-check: $(STAMP)  ## fail when a model change has no migration
	$(VENV)/bin/tessera makemigrations --check --dry-run

screenshots: $(STAMP)  ## walk the pages for people in Chromium and save docs/screenshots/*.png
	TESSERA_SCREENSHOTS=1 $(VENV)/bin/pytest -q -p no:cacheprovider tests/e2e/test_first_run_walk.py tests/e2e/test_pages_browser.py tests/e2e/test_console_browser.py

clean:  ## remove the virtualenvs and local data
	rm -rf $(VENV) $(TOOLS) var
