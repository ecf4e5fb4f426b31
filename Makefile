# eyelevel — the two commands: `make run` (demo on SQLite) and `make test` (the whole suite).
# Both create .venv and install the locked dependencies themselves.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?= -n auto --dist loadfile

.PHONY: run test lint test-sqlite test-postgres chromium bench clean lock

$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  (echo "eyelevel needs Python 3.11 or newer (set PYTHON=python3.12 …)"; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

## Start eyelevel with demo data on SQLite at http://$(HOST):$(PORT)
run: $(STAMP)
	$(BIN)/eyelevel demo --host $(HOST) --port $(PORT)

## Lint, type-check, import rules, then the suite on SQLite and on PostgreSQL + Redis
test: lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	PYTHONPATH=src $(BIN)/lint-imports

test-sqlite: $(STAMP) chromium
	EYELEVEL_TEST_BACKEND=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: $(STAMP) chromium
	EYELEVEL_TEST_BACKEND=postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

## Browser tests drive Debian's Chromium, the media tests Debian's exiftool; install what is
## missing when we may (root + apt: one update, one install)
APT_TOOLS := chromium:chromium exiftool:libimage-exiftool-perl
chromium:
	@missing=""; for tool in $(APT_TOOLS); do \
	  command -v "$${tool%%:*}" >/dev/null 2>&1 || missing="$$missing $${tool#*:}"; done; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "not installed:$$missing — their tests will be skipped (CI=true fails them)"; fi; }

## Throughput and latency figures over real WebSockets (see docs/benchmark.md)
bench: $(STAMP)
	$(BIN)/eyelevel bench

## Re-resolve the lock files after changing dependencies in pyproject.toml
lock:
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes -q -o requirements-dev.lock
	$(PYTHON) -m uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes -q -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
