# newsmon — two commands matter: `make demo` and `make test`. Both build .venv from scratch when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# pytest-xdist workers for `make pytest` (this machine has 2 cores); tests in one xdist_group share a worker.
PYTEST_WORKERS ?= 2
# Prefect's throw-away local server sends telemetry that races on its own SQLite file; keep it quiet.
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: demo test lint typecheck pytest bench clean venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -c constraints.txt -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/newsmon demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadgroup

test: lint typecheck pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py --memory-pages 10000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-output
