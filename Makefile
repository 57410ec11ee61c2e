# o365check: two commands on a fresh machine.
#   make demo   creates .venv, installs, runs the whole check against the built-in sandbox tenant
#   make test   creates .venv, installs with the test extras, runs every test offline
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint lab web bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[notebooks,test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/o365check sandbox scenarios
	@echo
	$(BIN)/o365check doctor
	@echo
	@echo "# The most common mistake, on purpose: the secret's ID pasted instead of its value (exits 1)"
	$(BIN)/o365check doctor --sandbox secret-id-not-value; test $$? -eq 1

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# JupyterLab refuses to run as root without --allow-root (containers run as root).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(ALLOW_ROOT)

web: $(STAMP)  # the walkthrough as a standalone page (Voila) on 127.0.0.1; PORT=8866 by default
	$(BIN)/o365check web --port $(or $(PORT),8866)

bench: $(STAMP)  # the runner benchmark needs Newman: npm install --prefix .ci newman@6 (as .ci/run does)
	$(BIN)/python bench/cli_startup.py
	PATH="$(CURDIR)/.ci/node_modules/.bin:$$PATH" $(BIN)/python bench/runner_vs_newman.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
