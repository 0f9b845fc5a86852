# fastapi-kit developer commands. Every target sets up .venv by itself.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run test lint format docs docs-serve bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet -e ".[all]" --group dev
	touch $(STAMP)

install: $(STAMP) ## Create .venv with the package, its extras and the dev tools

run: $(STAMP) ## Migrate and serve the example todo app on $(HOST):$(PORT) (SQLite + memory by default)
	PYTHONPATH=examples $(PY) -m todo_app migrate
	LOG_FORMAT=$${LOG_FORMAT:-console} $(VENV)/bin/uvicorn todo_app.main:app --app-dir examples \
		--host $(HOST) --port $(PORT) --no-proxy-headers --no-access-log

test: $(STAMP) ## Run the whole test suite with branch coverage of src/
	rm -f .coverage .coverage.*
	$(PY) -m coverage run -m pytest $(PYTEST_ARGS)
	$(PY) -m coverage combine --quiet
	$(PY) -m coverage report

lint: $(STAMP) ## ruff check, ruff format --check, mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy src examples docs/examples bench

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

docs: $(STAMP) ## Build the documentation site (strict)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

docs-serve: $(STAMP) ## Serve the documentation with live reload
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

bench: $(STAMP) ## Benchmark with wrk (apt-get install -y wrk) and print the table
	$(PY) bench/run.py --chart docs/images/benchmarks.svg $(BENCH_ARGS)

clean: ## Remove the virtualenv, caches and build output
	rm -rf $(VENV) site dist .coverage .coverage.* .pytest_cache .mypy_cache .ruff_cache
