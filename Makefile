# Developer tasks. `make demo` runs the main job, `make test` runs every test (CI: .ci/run).
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test lint format pr lock openapi fuzz layer bench soak browser screenshot clean

# asl-validator (npm, package-lock.json) for the batch scoring state machine's tests, installed
# into the venv so that node_modules stays out of the working tree.
NODE_DIR := $(VENV)/node
NODE_STAMP := $(NODE_DIR)/.installed-$(shell cat package.json package-lock.json | cksum | cut -d' ' -f1)

install: $(STAMP) $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for asl-validator (tests/scoring): apt-get install npm" >&2; exit 1; }
	mkdir -p $(NODE_DIR)
	cp package.json package-lock.json $(NODE_DIR)/
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	rm -f $(NODE_DIR)/.installed-* && touch $@

$(STAMP): requirements.lock pyproject.toml
	@echo "setting up $(VENV): $$(grep -c '==' requirements.lock) pinned packages from requirements.lock (the first time takes a few minutes; later runs skip this)"
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --progress-bar off -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@
	@echo "$(VENV) is ready"

demo: install  ## generate data, train, evaluate, publish to .local/models, answer the examples
	$(BIN)/bankreco demo

test: install lint browser  ## every test: unit, integration (S3 endpoint), infrastructure, e2e
	$(BIN)/pytest -n 2 --dist loadgroup

# Debian's chromium for the browser test (tests/browser): Playwright drives it and never
# downloads a browser of its own.
CHROMIUM := /usr/bin/chromium

browser: $(CHROMIUM)

$(CHROMIUM):
	@echo "installing Debian's chromium for the browser test (apt-get, about a minute)"
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "the browser test needs Debian's chromium: sudo apt-get install chromium" >&2; exit 1; \
	fi

screenshot: install browser  ## docs/img/swagger.png from the browser test
	BANKRECO_SCREENSHOT=docs/img/swagger.png $(BIN)/pytest -q -n 0 tests/browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

pr: test  ## the quality gate before a pull request

lock:  ## re-resolve requirements.lock from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --extra train --extra serve --extra dev --universal --python-version 3.11 -o requirements.lock

openapi: install
	$(BIN)/bankreco openapi --out docs/openapi.json

FUZZ_CASES ?= 20000
fuzz: install  ## Schemathesis: $(FUZZ_CASES) cases from docs/openapi.json against the real handler, then the figures
	BANKRECO_FUZZ_CASES=$(FUZZ_CASES) $(BIN)/pytest -n 0 -q tests/contract/test_fuzz.py

bench: install  ## the performance benchmark, written to docs/performance.md (quick check: $(PY) -m bench --quick)
	$(BIN)/python -m bench --out docs/performance.md

soak: install  ## 200,000 requests, 16 threads, 20 banks, a cache smaller than their models (docs/reliability.md)
	$(PY) -m bench.soak --requests 200000 --banks 20 --threads 16 --cache-models 8

# The runtime's Python (3.12) when one runs here: only it compiles the layer's .pyc. A python3.12
# on the PATH can be a shim with no interpreter behind it (pyenv's), so it is probed; otherwise
# the venv's Python builds, shipping sources only (layers/Makefile chooses the same way).
LAYER_PYTHON ?= $(shell python3.12 -c '' >/dev/null 2>&1 && command -v python3.12 || echo $(PY))

layer: install  ## build the Lambda layer (arm64, python3.12) into build/layer and check its size
	$(LAYER_PYTHON) layers/build_layer.py --out build/layer --function-dir functions/predict

clean:
	rm -rf build .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
