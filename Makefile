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

.PHONY: help install run serve migrate test pytest lint typecheck openapi openapi-check clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

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
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c api/gunicorn_conf.py api.wsgi:app

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

typecheck: $(STAMP) ## mypy, strict on api/, schemas/, db/
	$(BIN)/mypy

openapi: $(STAMP) ## Write openapi/openapi.json from the code
	$(BIN)/python -m openapi.write openapi/openapi.json

openapi-check: $(STAMP) ## Fail when openapi/openapi.json is stale
	$(BIN)/python -m openapi.write --check openapi/openapi.json

pytest: $(STAMP) ## Only the pytest suite (SQLite, and PostgreSQL when reachable)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck openapi-check pytest ## Everything CI runs: lint, types, spec drift, the whole suite

clean: ## Remove the venv, caches and the embedded database
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache instance
