# o365check: two commands on a fresh machine.
#   make demo   creates .venv, installs, runs the whole check against the built-in sandbox tenant
#   make test   creates .venv, installs with the test extras, runs every test offline
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock

.PHONY: demo test lint lock lab web bench install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The tested versions (requirements.lock, with hashes), then the package itself without re-resolving.
$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve the lock after changing pyproject.toml's dependencies (tests/test_project.py checks they agree).
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra notebooks --extra test --python-version 3.11 \
	  --generate-hashes --quiet --output-file $(LOCK)

# The Postman sandbox's script libraries, fetched from npm and bundled (needs node and npm; git-ignored).
LIBS   := o365check/postman/js/libs/stamp.json
$(LIBS): tools/fetch_script_libraries.py tools/script-libraries/package.json tools/script-libraries/package-lock.json tools/script-libraries/bundle.js
	$(PYTHON) tools/fetch_script_libraries.py

install: $(STAMP) $(LIBS)

demo: $(STAMP)
	$(BIN)/o365check sandbox scenarios
	@echo
	$(BIN)/o365check doctor
	@echo
	@echo "# The most common mistake, on purpose: the secret's ID pasted instead of its value (exits 1)"
	$(BIN)/o365check doctor --sandbox secret-id-not-value; test $$? -eq 1

test: $(STAMP) $(LIBS)
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

bench: $(STAMP) $(LIBS)  # the runner benchmark needs Newman: npm install --prefix .ci newman@6 (as .ci/run does)
	$(BIN)/python bench/cli_startup.py
	PATH="$(CURDIR)/.ci/node_modules/.bin:$$PATH" $(BIN)/python bench/runner_vs_newman.py
	$(BIN)/python bench/long_run.py  # 1k and 10k iterations: linear time, flat memory (issue 9)
	$(BIN)/python bench/sandbox_concurrency.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache o365check/postman/js/libs
