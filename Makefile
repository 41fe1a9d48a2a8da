# Conduit: `make help` lists the targets. Every target sets up what it needs itself.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.deps-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install run serve worker migrate test test-ops pytest lint typecheck openapi openapi-check sdk sdk-check sdk-into sdk-test fuzz bench bench-topologies clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

SDKS := openapi/clients
TS_SDK := $(SDKS)/typescript
NODE_STAMP := $(TS_SDK)/node_modules/.package-lock.json

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the app with its dev tools

migrate: $(STAMP) ## Apply migrations to $$DATABASE_URL (default: the embedded SQLite file)
	$(BIN)/python -m db.migrate

run: migrate ## Development server on the embedded SQLite default (http://127.0.0.1:8000/api/docs)
	$(BIN)/flask --app api.wsgi:app run --debug --host $(HOST) --port $(PORT)

serve: migrate ## Production server: gunicorn on $${HOST:-127.0.0.1}:$${PORT:-8000}, $$WEB_CONCURRENCY workers
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c deploy/gunicorn_conf.py api.wsgi:app

# Beside `make serve` (or serve-proxy), with the same DATABASE_URL and CELERY_BROKER_URL:
# the outbox relay sweep, notification delivery and fan-out, and the scheduled purges.
worker: migrate ## Celery worker with beat embedded (needs $$CELERY_BROKER_URL, e.g. amqp://guest:guest@127.0.0.1:5672//)
	@test -n "$$CELERY_BROKER_URL" || { echo "CELERY_BROKER_URL is not set (make run relays in-process without one)" >&2; exit 1; }
	mkdir -p instance
	$(BIN)/celery -A runtime.worker worker -B --schedule instance/celerybeat-schedule \
	  --concurrency $${WORKER_CONCURRENCY:-2} --loglevel $${LOG_LEVEL:-INFO}

.PHONY: serve-proxy
serve-proxy: migrate ## Production topology: nginx on $${HOST:-127.0.0.1}:$${PORT:-8000} in front of gunicorn on a private socket
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python -m deploy.serve

lint: $(STAMP) ## ruff: lint rules, then formatting (`ruff format .` fixes what this finds)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy, strict on the app, tests, contracts, bench, deploy and openapi (pyproject.toml)
	$(BIN)/mypy

openapi: $(STAMP) ## Write openapi/openapi.json from the code
	$(BIN)/python -m openapi.write openapi/openapi.json

openapi-check: $(STAMP) ## Fail when openapi/openapi.json is stale
	$(BIN)/python -m openapi.write --check openapi/openapi.json

.PHONY: spec-diff release-notes
spec-diff: $(STAMP) ## Classify spec changes vs. the last release (openapi/releases/); fail without the SemVer bump they need
	$(BIN)/python -m openapi.specdiff check

release-notes: $(STAMP) ## Write CHANGELOG.md's section for the current info.version from the spec diff
	$(BIN)/python -m openapi.specdiff notes

$(NODE_STAMP): $(TS_SDK)/package.json $(TS_SDK)/package-lock.json
	cd $(TS_SDK) && npm ci --no-audit --no-fund

# Generate both SDKs from openapi/openapi.json into $(1): $(1)/python (the whole package) and
# $(1)/typescript/src/schema.ts (the types; src/index.ts is written by hand). Hand-written
# Python modules in $(SDKS)/python-extras/ are copied into the package. The generator's
# ruff hooks run our venv's pinned ruff; nothing generated carries a date or a path.
define generate-sdks
	rm -rf $(1)/python $(1)/typescript/src/schema.ts && mkdir -p $(1)/typescript/src
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/openapi-python-client generate --fail-on-warning \
	  --path openapi/openapi.json --config $(SDKS)/python-config.yml --meta pdm --output-path $(1)/python
	rm -rf $(1)/python/.ruff_cache
	cp $(SDKS)/python-extras/*.py $(1)/python/conduit_client/
	cd $(TS_SDK) && npx --no -- openapi-typescript ../../openapi.json --output $(abspath $(1))/typescript/src/schema.ts
endef

sdk: $(STAMP) $(NODE_STAMP) ## Regenerate the Python and TypeScript SDKs in openapi/clients/ from the spec
	$(call generate-sdks,$(SDKS))

sdk-check: $(STAMP) $(NODE_STAMP) ## Fail (with a diff) when the committed SDKs are stale
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory sdk-into SDK_OUT="$$tmp" >/dev/null && stale=0 && \
	{ diff -ru --exclude=__pycache__ --exclude=.ruff_cache --exclude='*.egg-info' \
	    --exclude=build --exclude=dist $(SDKS)/python "$$tmp/python" || stale=1; } && \
	{ diff -u $(TS_SDK)/src/schema.ts "$$tmp/typescript/src/schema.ts" || stale=1; } && \
	if [ $$stale = 0 ]; then echo "SDKs in $(SDKS) are up to date"; \
	else echo "SDKs in $(SDKS) are stale: run \`make sdk\` and commit them." >&2; exit 1; fi

sdk-into: $(STAMP) $(NODE_STAMP)  # used by sdk-check: SDK_OUT=<an empty temporary directory>
	$(if $(SDK_OUT),,$(error SDK_OUT must name a temporary directory))
	$(call generate-sdks,$(SDK_OUT))

sdk-test: $(STAMP) $(NODE_STAMP) ## Both SDKs' user journeys against a live gunicorn (PostgreSQL)
	$(BIN)/python -m pytest tests/sdk -s $(PYTEST_ARGS)

# Branch coverage of the app's packages, measured in the pytest process: code run only by the
# gunicorn, nginx and SDK subprocesses of tests/ops, tests/sdk and contracts/ is not counted.
# The floor is the whole suite's figure rounded down (README: What the tests prove), so a run
# narrowed with PYTEST_ARGS measures nothing (add --cov=... to PYTEST_ARGS to see one).
COVERAGE_FLOOR := 87
COVERAGE := --cov=api --cov=schemas --cov=db --cov=core --cov=jobs --cov=runtime --cov=ml --cov-branch \
	--cov-report=term-missing:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

# One worker more than there are cores: the live tests spend much of their time waiting on the
# servers they start, and a core left idle meanwhile is time lost. Tests that share a Redis
# database or restart a shared service stay in one worker each (their `xdist_group`).
XDIST ?= -n $(shell echo $$(( $$(nproc) + 1 ))) --dist loadgroup

pytest: $(STAMP) ## Only the pytest suite (SQLite, and PostgreSQL when reachable), with branch coverage
	$(BIN)/python -m pytest $(XDIST) $(if $(PYTEST_ARGS),,$(COVERAGE)) $(PYTEST_ARGS)

test-ops: $(STAMP) ## Only the ops suite: JWT attacks, bad input, rate limits, faults, nginx scale-out
	$(BIN)/python -m pytest tests/ops $(PYTEST_ARGS)

check: lint typecheck openapi-check spec-diff sdk-check ## The static gates of `make test` (no suite): lint, types, spec and SDK drift, the breaking-change gate

test: check pytest ## Everything CI runs: `make check`, then the whole suite

fuzz: $(STAMP) ## schemathesis CLI vs. a live gunicorn, large budget; JUnit in reports/ (FUZZ_ARGS=--max-examples N)
	$(BIN)/python -m contracts.fuzz $(FUZZ_ARGS)

# wrk is a system package this target never installs (README: Commands); bench.run says so.
bench: $(STAMP) ## Load benchmark on PostgreSQL vs. the ceilings, then the database topologies (needs wrk); BENCH_ARGS=--quick for a smoke run
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-topologies: $(STAMP) ## The anonymous list direct, with a streaming replica, through PgBouncer (root, wrk, pgbouncer)
	$(BIN)/python -m bench.topologies $(BENCH_ARGS)

# The data lives beside the repository (../shared/ml/, with its README); nothing is downloaded.
.PHONY: eval-ml
eval-ml: $(STAMP) ## Offline quality of the model vs. baselines: tag suggestions, search, related (EVAL_ARGS=--data PATH)
	$(BIN)/python -m ml.evaluate $(EVAL_ARGS)

.PHONY: embed
embed: migrate ## Embed every article not yet embedded for the current model, with a progress bar (resumable)
	$(BIN)/python -m runtime.embed

clean: ## Remove the venv, caches and the embedded database
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage instance
