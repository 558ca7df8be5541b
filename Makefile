# kitvet: `make demo` sets everything up and runs the main job; `make test` runs the tests.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup demo test lint system-deps bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Real validators and browser used by the tests (Debian/Ubuntu; needs root or sudo).
system-deps:
	./scripts/system-deps.sh

demo: setup
	$(BIN)/kitvet demo

# Lint and types first (seconds), then the suite. The tests start their own PostgreSQL.
test: setup system-deps lint
	$(BIN)/python -m pytest --durations=25

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy src

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
