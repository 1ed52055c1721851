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
# pyright and ruff live in a venv of their own, so `make test` never installs them.
LINT_VENV ?= $(VENV)-lint

# Every install is from a lock in requirements/ (`make lock` writes them): exact versions, each file
# checked against its sha256 (--require-hashes), nothing resolved at install time (--no-deps). The pip
# that comes with Python does it: upgrading pip first would be one install no hash checks.
# -qq: errors still show; setuptools' generic editable-install banner does not.
PIP_INSTALL := -m pip install --quiet --quiet --disable-pip-version-check
LOCKED := $(PIP_INSTALL) --require-hashes --no-deps -r
# Then the kit itself, in place. Its requirements came from the lock; so did setuptools, its build
# backend (the `build` group), which --no-build-isolation uses instead of fetching one unchecked.
KIT := $(PIP_INSTALL) --no-deps --no-build-isolation -e .

.PHONY: setup setup-test plan verify lint test bench lock lock-upgrade clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.setup-$(CLOUDS): pyproject.toml requirements/$(CLOUDS).lock | $(PY)
	$(PY) $(LOCKED) requirements/$(CLOUDS).lock
	$(PY) $(KIT)
	touch $@

$(VENV)/.setup-test: pyproject.toml requirements/test.lock | $(PY)
	$(PY) $(LOCKED) requirements/test.lock
	$(PY) $(KIT)
	touch $@

$(LINT_VENV)/.setup: requirements/lint.lock
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python $(LOCKED) requirements/lint.lock
	touch $@

setup: $(VENV)/.setup-$(CLOUDS)

setup-test: $(VENV)/.setup-test

plan: setup
	$(VENV)/bin/tavus-recording plan --stack $(STACK)

# Check a deployed stack against the live cloud (and Tavus, with VERIFY_FLAGS=--tavus).
verify: setup
	$(VENV)/bin/tavus-recording verify --stack $(STACK) $(VERIFY_FLAGS)

# pyright (the `lint` group, with its own Node.js) over [tool.pyright]'s include, against the test
# venv's packages, and ruff's [tool.ruff] rules over the repository: both run, either fails it.
lint: setup-test $(LINT_VENV)/.setup
	status=0; \
	$(LINT_VENV)/bin/pyright --pythonpath $(PY) || status=$$?; \
	$(LINT_VENV)/bin/ruff check . || status=$$?; \
	exit $$status

# On every core (pytest-xdist), one test file per worker at a time so a file's shared servers and clients are made once.
PYTEST_FLAGS ?= -n auto --dist loadfile
test: setup-test
	$(PY) -m pytest $(PYTEST_FLAGS)

# The verify benchmarks serve moto and the fakes, test tools. Each prints before (the kit before issue 20, from git)
# and after, measured in the same run, and exits non-zero over its budget; the slowest (many destinations) goes last.
bench: setup-test
	$(PY) benchmarks/plan_vs_import.py
	$(PY) benchmarks/verify_s3.py
	$(PY) benchmarks/verify_latency.py
	$(PY) benchmarks/storage_cost.py
	$(PY) benchmarks/critical_path.py
	$(PY) benchmarks/many_destinations.py

# The locks, from pyproject.toml, by uv (pinned, hash-checked, in .venv-lock). Universal: one lock serves
# every OS and Python the kit supports (3.11+), CI's Linux 3.11 and a developer's Mac alike; pip skips
# the entries whose markers do not match. test.lock is resolved first; each cloud's lock is held to it
# (-c), so `make setup` installs the versions the tests ran. uv keeps the pins a lock already has
# unless pyproject.toml rules them out; `make lock-upgrade` moves everything to the newest allowed.
# inputs.json records what pyproject.toml required, for the test that catches a stale lock. uv locks
# itself too (uv-tool.lock), copied only when it changed so the next `make lock` does not reinstall it.
UV_VERSION := 0.13.9
LOCK_VENV ?= .venv-lock
UV := $(LOCK_VENV)/bin/uv
COMPILE = $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_FLAGS)
LOCK_INPUTS := import json, tomllib; p = tomllib.load(open("pyproject.toml", "rb")); print(json.dumps({ \
	"build-system": {"requires": p["build-system"]["requires"]}, \
	"project": {key: p["project"][key] for key in ("requires-python", "dependencies", "optional-dependencies")}, \
	"dependency-groups": p["dependency-groups"]}, indent=2))

$(UV): requirements/uv-tool.lock
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python $(LOCKED) requirements/uv-tool.lock
	touch $@

lock: $(UV)
	$(COMPILE) pyproject.toml --group build --extra all --extra test -o requirements/test.lock
	for extra in aws gcp azure all; do \
		$(COMPILE) pyproject.toml --group build --extra $$extra -c requirements/test.lock -o requirements/$$extra.lock || exit 1; \
	done
	$(COMPILE) --group lint -o requirements/lint.lock
	echo 'uv==$(UV_VERSION)' | $(COMPILE) - -o $(LOCK_VENV)/uv-tool.lock
	cmp -s $(LOCK_VENV)/uv-tool.lock requirements/uv-tool.lock || cp $(LOCK_VENV)/uv-tool.lock requirements/uv-tool.lock
	$(LOCK_VENV)/bin/python -c '$(LOCK_INPUTS)' > requirements/inputs.json

lock-upgrade:
	$(MAKE) lock LOCK_FLAGS=--upgrade

clean:
	rm -rf $(VENV) $(LINT_VENV) $(LOCK_VENV) .pytest_cache .hypothesis *.egg-info
