# Leap Ticketing: `make run` starts the whole system locally; `make test` runs every test.
# Both set up what they need first (system packages, the Python venv) and are idempotent.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
WEB    := static
NPM_STAMP := $(WEB)/node_modules/.installed
WEB_SRC   := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json
DIST      := $(WEB)/dist/index.html
COSMOS_STAMP := tools/cosmosdb-server/node_modules/.installed
AZURITE_STAMP := tools/azurite/node_modules/.installed
TOOLS  := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: run test setup system-deps system-deps-test node-check web-test iac-check lint typecheck pytest bench bench-smoke bench-compare clean

run: system-deps $(STAMP) $(DIST) $(AZURITE_STAMP)
	$(PY) -m shared.local

test: system-deps-test $(STAMP) lint typecheck iac-check web-test $(DIST) $(COSMOS_STAMP) $(AZURITE_STAMP) pytest

setup: system-deps-test $(STAMP) $(NPM_STAMP)

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

node-check:
	@command -v node >/dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' || \
	  (echo "Node.js 20+ is required for the web app (https://nodejs.org or your distribution)" >&2; exit 1)

# `npm install` (not `npm ci`): it installs the locked tree all the same, and `npm ci` refuses
# lockfiles whose optional platform packages (rollup's) carry no version, which npm 11 writes
# when registry URLs are omitted from lockfiles.
$(NPM_STAMP): $(WEB)/package.json $(WEB)/package-lock.json | node-check
	cd $(WEB) && npm install --no-fund --no-audit --loglevel=error
	touch $(NPM_STAMP)

# The Cosmos DB protocol server the catalog adapter's contract tests talk to.
$(COSMOS_STAMP): tools/cosmosdb-server/package.json | node-check
	cd tools/cosmosdb-server && npm install --no-fund --no-audit --loglevel=error
	touch $(COSMOS_STAMP)

# Azurite (Azure Storage emulator): event images for `make run` and the tests.
$(AZURITE_STAMP): tools/azurite/package.json | node-check
	cd tools/azurite && npm install --no-fund --no-audit --loglevel=error
	touch $(AZURITE_STAMP)

$(DIST): $(NPM_STAMP) $(WEB_SRC)
	cd $(WEB) && npm run --silent build

web-test: $(NPM_STAMP)
	cd $(WEB) && npx tsc --noEmit && npx vitest run

$(TOOLS_STAMP): requirements-tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements-tools.txt
	touch $(TOOLS_STAMP)

# The workflows pass actionlint; infra/ passes checkov (every suppression justified inline).
iac-check: $(TOOLS_STAMP)
	$(TOOLS)/bin/actionlint .github/workflows/*.yml
	$(TOOLS)/bin/checkov --directory infra --framework bicep --compact --quiet --skip-download

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(VENV)/bin/pytest

bench: system-deps $(STAMP)
	$(PY) bench/flash_sale.py
	$(PY) bench/finalize_drain.py
	$(PY) bench/catalog_reads.py
	$(PY) bench/waiting_room.py

# The buyer flow (1 and 2 workers), the finalize drain and the hold/bare ratio, tiny; no pretix.
bench-smoke: system-deps $(STAMP)
	$(PY) bench/buyers.py --smoke
	$(PY) bench/catalog_reads.py --smoke
	$(PY) bench/waiting_room.py --smoke

# Leap beside pretix, same machine, same buyers, one run, one JSON document (README,
# "Benchmarks"). pretix must be set up first with ../shared/peers/pretix/setup.sh.
bench-compare: system-deps $(STAMP)
	$(PY) bench/buyers.py --peer pretix

clean:
	rm -rf $(VENV) $(TOOLS) .local .pytest_cache .mypy_cache .ruff_cache test-artifacts $(WEB)/node_modules $(WEB)/dist tools/cosmosdb-server/node_modules tools/azurite/node_modules
