# Outage Claims: `make run` starts the app with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
STAMP := $(VENV)/.installed-stamp
ASSETS := tracker/static/vendor/nhsuk/nhsuk-frontend.min.css

.PHONY: run test setup lint typecheck lock bench bench-load clean

run: setup
	$(FLASK) init-db
	$(FLASK) seed-demo
	$(FLASK) run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/pytest

setup: $(STAMP) $(ASSETS)

# constraints.txt pins every package (and what it pulls in), so CI and a newcomer get the same versions
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(ASSETS): package.json package-lock.json scripts/build-assets.mjs
	npm ci --no-audit --no-fund
	npm run build

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

# mypy as configured in pyproject.toml: strict for the whole tracker package
typecheck: setup
	$(BIN)/mypy

# re-resolve the newest versions the ranges in pyproject.toml allow, in a throw-away venv
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[dev,bench]'
	{ sed -n '1,2p' constraints.txt; .venv-lock/bin/python -m pip freeze --exclude-editable; } > constraints.tmp
	mv constraints.tmp constraints.txt
	rm -rf .venv-lock

bench: setup
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python -m bench

# gunicorn (4 workers) on a throw-away PostgreSQL database (BENCH_PG_URL, default the local
# server as postgres), driven by wrk from Debian (installed here when missing; no fallback)
bench-load: setup
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m bench.load --write-results $(BENCH_LOAD_ARGS)

clean:
	rm -rf $(VENV) node_modules tracker/static/vendor .pytest_cache test-artifacts
