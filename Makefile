# Developer tasks. `make demo` runs the main job, `make test` runs every test (CI: .ci/run).
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test lint format pr lock openapi layer bench soak clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

demo: install  ## generate data, train, evaluate, publish to .local/models, answer the examples
	$(BIN)/bankreco demo

test: install lint  ## every test: unit, integration (S3 endpoint), infrastructure, e2e
	$(BIN)/pytest -n 2 --dist loadgroup

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
	uv pip compile pyproject.toml --extra train --extra dev --universal --python-version 3.11 -o requirements.lock

openapi: install
	$(BIN)/bankreco openapi --out docs/openapi.json

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
