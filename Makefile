# Two commands do everything: `make plan` (offline plan of a stack) and `make test`; `make lint` type-checks.
PYTHON ?= python3
VENV ?= .venv
STACK ?= dev
# Which clouds' SDKs `make setup`/`make plan`/`make verify` install: aws, gcp, azure, or all. Unless
# given, the stack file's provider decides (s3: aws, gcs: gcp, azure_blob: azure; no file: aws).
# The tests always install all of them.
STACK_PROVIDER = $(shell sed -n 's/^[[:space:]]*tavus-recording:provider:[[:space:]]*//p' stacks/Pulumi.$(STACK).yaml 2>/dev/null | tr -d "\"' \r" | head -n 1)
CLOUDS_FOR_s3 := aws
CLOUDS_FOR_gcs := gcp
CLOUDS_FOR_azure_blob := azure
CLOUDS ?= $(or $(CLOUDS_FOR_$(STACK_PROVIDER)),aws)
PY := $(VENV)/bin/python

.PHONY: setup setup-test plan verify lint test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# -qq: errors still show; setuptools' generic editable-install banner does not.
$(VENV)/.setup-$(CLOUDS): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --quiet -e '.[$(CLOUDS)]'
	touch $@

$(VENV)/.setup-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --quiet -e '.[all,test,lint]'
	touch $@

setup: $(VENV)/.setup-$(CLOUDS)

setup-test: $(VENV)/.setup-test

plan: setup
	$(VENV)/bin/tavus-recording plan --stack $(STACK)

# Check a deployed stack against the live cloud (and Tavus, with VERIFY_FLAGS=--tavus).
verify: setup
	$(VENV)/bin/tavus-recording verify --stack $(STACK) $(VERIFY_FLAGS)

# pyright (pinned in the `lint` extra, with its own Node.js) over [tool.pyright]'s include, against
# this venv's packages, and ruff's [tool.ruff] rules over the repository: both run, either fails it.
lint: setup-test
	status=0; \
	$(VENV)/bin/pyright --pythonpath $(PY) || status=$$?; \
	$(VENV)/bin/ruff check . || status=$$?; \
	exit $$status

test: setup-test
	$(PY) -m pytest

# The verify benchmark serves moto, a test tool.
bench: setup-test
	$(PY) benchmarks/plan_vs_import.py
	$(PY) benchmarks/verify_s3.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
