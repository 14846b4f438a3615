# Outage Claims: `make run` starts the app with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
STAMP := $(VENV)/.installed-stamp
ASSETS := tracker/static/vendor/nhsuk/nhsuk-frontend.min.css

.PHONY: run test setup lint bench clean

run: setup
	$(FLASK) init-db
	$(FLASK) seed-demo
	$(FLASK) run --host 127.0.0.1 --port 5000

test: setup
	$(BIN)/pytest

setup: $(STAMP) $(ASSETS)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(ASSETS): package.json package-lock.json scripts/build-assets.mjs
	npm ci --no-audit --no-fund
	npm run build

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules tracker/static/vendor .pytest_cache test-artifacts
