# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app

.PHONY: run test lint bench install install-test clean-db

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Touchpoints needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# axe-core for the browser suite's accessibility checks (package.json); node_modules is never committed.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility tests will skip (or fail with REQUIRE_BROWSER=1)." >&2; fi

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(AXE)

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo --if-empty
	$(BIN)/flask policies load --if-empty policies/
	SCHEDULER_EMBEDDED=1 $(BIN)/flask serve

# Two workers by default (the suite's databases are per worker); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: install-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

bench: install-test
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean-db:
	rm -f instance/touchpoints.sqlite
