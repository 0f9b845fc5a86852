# fastapi-kit developer commands. Every target sets up .venv by itself.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
# Console logs for humans, unless the environment or .env asks for another format.
CONSOLE_LOGS := if [ -z "$${LOG_FORMAT:-}" ] && ! grep -qsE '^\s*(export\s+)?LOG_FORMAT=' .env; \
	then export LOG_FORMAT=console; fi;
# One line per step, in bold on a terminal.
SAY := @printf "$$([ -t 1 ] && printf '\033[1m')==> %s$$([ -t 1 ] && printf '\033[0m')\n"

.PHONY: help install migrate run dev test lint format docs docs-serve bench dist clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) \
		| sed -e 's/$$(HOST)/$(HOST)/g' -e 's/$$(PORT)/$(PORT)/g' \
		| awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# What serving the example app needs: the kit with its extras, the app's own packages
# and FastAPI's CLI. The dev tools (pytest, mypy, mkdocs...) come with the first
# `make test`, `lint`, `docs`, `bench` or `install`.
$(RUN_STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: fastapi-kit needs" \
		"Python >= 3.11; name yours with PYTHON=, e.g. make $(MAKECMDGOALS) PYTHON=python3.12" >&2; \
		exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "fastapi-kit needs Python >= 3.11, and $(PYTHON) is $$($(PYTHON) -V 2>&1):" \
			"name a newer one with PYTHON=, e.g. make $(MAKECMDGOALS) PYTHON=python3.12" >&2; \
		exit 1; }
	$(SAY) "creating the virtualenv $(VENV) with $$($(PYTHON) -V)"
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(SAY) "installing fastapi-kit (editable) and what the example app needs to serve"
	@$(PY) -m pip install --progress-bar on -e ".[all]" --group example
	@touch $(RUN_STAMP)

$(DEV_STAMP): $(RUN_STAMP)
	$(SAY) "installing the dev tools: pytest, ruff, mypy, mkdocs, build"
	@$(PY) -m pip install --progress-bar on --group dev
	@touch $(DEV_STAMP)

install: $(DEV_STAMP) migrate ## Create .venv with the kit, the example app and the dev tools

migrate: $(RUN_STAMP) ## Migrate the example app's database (DATABASE_URL, default ./todo.db)
	$(SAY) "migrating the example app's database"
	@$(PY) -m todo_app migrate

run: migrate ## Migrate and serve the example app on $(HOST):$(PORT) (SQLite + memory by default)
	$(SAY) "serving the example app on http://$(HOST):$(PORT) (API docs at /docs; Ctrl+C stops)"
	@$(CONSOLE_LOGS) \
	exec $(VENV)/bin/uvicorn todo_app.main:app --host $(HOST) --port $(PORT) \
		--no-proxy-headers --no-access-log

dev: migrate ## Serve the example app with auto-reload (fastapi dev) on $(HOST):$(PORT)
	$(SAY) "serving with auto-reload on http://$(HOST):$(PORT) (Ctrl+C stops)"
	@$(CONSOLE_LOGS) \
	exec $(VENV)/bin/fastapi dev --host $(HOST) --port $(PORT) --no-proxy-headers \
		--reload-dir src --reload-dir examples

test: $(DEV_STAMP) ## Run the whole test suite with branch coverage of src/
	rm -f .coverage .coverage.*
	$(PY) -m coverage run -m pytest $(PYTEST_ARGS)
	$(PY) -m coverage combine --quiet
	$(PY) -m coverage report

lint: $(DEV_STAMP) ## ruff check, ruff format --check, mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy src examples docs/examples bench

format: $(DEV_STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

docs: $(DEV_STAMP) ## Build the documentation site (strict)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

docs-serve: $(DEV_STAMP) ## Serve the documentation with live reload
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

bench: $(DEV_STAMP) ## Benchmark with wrk (apt-get install -y wrk) and print the table
	$(PY) bench/run.py --chart docs/images/benchmarks.svg $(BENCH_ARGS)

dist: $(DEV_STAMP) ## Build the wheel and the sdist into dist/
	rm -rf dist
	$(PY) -m build --outdir dist .
	@ls dist

clean: ## Remove the virtualenv, caches and build output
	rm -rf $(VENV) site dist .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache
