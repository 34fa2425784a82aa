# `make run` serves the portal with a local chain; `make test` runs the whole suite. Both bootstrap first.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PORT ?= 8000
export CHAIN_PORT ?= 8545
export DEBUG ?= 1
SOLIDITY := $(shell find governance/contracts -name '*.sol' -not -path '*/build/*')

.PHONY: run test bootstrap contracts check-tools chromium clean

run: bootstrap
	@$(PY) -m portal.devrun

test: bootstrap chromium
	$(PY) -m pytest $(ARGS)

# The browser tests drive Debian's Chromium (CHROMIUM, default /usr/bin/chromium): installed here when we are root
# with apt-get, otherwise the one command to run is named.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x "$(CHROMIUM)" || { \
		if [ "$(CHROMIUM)" = /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing Chromium for the browser tests (apt-get install chromium) …"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
				{ echo "Installing Chromium failed: see the messages above." >&2; exit 1; }; \
		else \
			echo "The browser tests need Chromium at $(CHROMIUM). Install it with: sudo apt-get install -y chromium" \
				"(or set CHROMIUM=/path/to/chromium)." >&2; exit 1; \
		fi; }

bootstrap: check-tools $(VENV)/.installed node_modules/.installed contracts

check-tools:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null || \
		{ echo "Python 3.11 is required (found: $$($(PYTHON) --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2; exit 1; }
	@command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || \
		{ echo "Node.js 20+ is required (found: $$(node --version 2>/dev/null || echo none)). Install it from your package manager." >&2; exit 1; }
	@command -v npm >/dev/null || { echo "npm is required (it comes with Node.js 20+)." >&2; exit 1; }

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing the Python dependencies into $(VENV) …"
	@$(PY) -m pip install --quiet --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	@$(PY) -m pip install --quiet -e '.[dev]' 2>&1 | { grep -v '^WARNING: Location' || true; } || \
		{ echo "pip install failed: see the messages above." >&2; exit 1; }
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error || { echo "npm ci failed: see the messages above." >&2; exit 1; }
	@touch $@

contracts: governance/contracts/build/.stamp

governance/contracts/build/.stamp: $(SOLIDITY) governance/contracts/build.mjs node_modules/.installed
	node governance/contracts/build.mjs || { echo "Compiling the contracts failed: see the solc messages above." >&2; exit 1; }
	@touch $@

clean:
	rm -rf $(VENV) node_modules governance/contracts/build staticfiles .pytest_cache
