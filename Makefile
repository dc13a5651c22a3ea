# Leap Ticketing: `make run` starts the whole system locally; `make test` runs every test.
# Both set up what they need first (system packages, the Python venv) and are idempotent.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test setup system-deps system-deps-test lint typecheck pytest bench bench-smoke clean

run: system-deps $(STAMP)
	$(PY) -m shared.local

test: system-deps-test $(STAMP) lint typecheck pytest

setup: system-deps-test $(STAMP)

system-deps:
	@scripts/ensure-system-deps.sh run

system-deps-test:
	@scripts/ensure-system-deps.sh test

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  (echo "Python 3.11+ is required (found $$($(PYTHON) --version))" >&2; exit 1)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest

bench: system-deps $(STAMP)
	$(PY) bench/flash_sale.py

bench-smoke: system-deps $(STAMP)
	$(PY) bench/flash_sale.py --smoke

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache test-artifacts
