# Two commands matter: `make run` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# The venv is rebuilt whenever a lock changes (requirements*.txt, made by `make lock`).
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
NPM_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json | cksum | cut -d' ' -f1)

NODE_STAMP := frontend/node_modules/.installed-$(shell cat frontend/package-lock.json | cksum | cut -d' ' -f1)
CHROMIUM   := /usr/bin/chromium

.PHONY: help venv run test unit lint fmt db keys clean frontend browser npm package relay bench pgbouncer \
  lock openapi

help:
	@echo "make run   - start the shop on http://127.0.0.1:54321/ (PostgreSQL, functions, gateway)"
	@echo "make test  - black --check, then the whole test suite against a fresh database"
	@echo "make unit  - the unit tests only (tests/unit: fakes, no database; a few seconds)"
	@echo "make db    - apply sql/ to the development database"
	@echo "make keys  - print a fresh ES256 JWKS and a dev token"
	@echo "make fmt   - format the code with black"
	@echo "make package - build dist/<function>.zip for AWS Lambda (see docs/deploy.md)"
	@echo "make lock  - re-resolve requirements*.in into the hash-pinned requirements*.txt"
	@echo "             (LOCK_FLAGS=--upgrade for the newest versions; see docs/deploy.md)"
	@echo "make openapi - regenerate docs/openapi.json from the code (a test fails when it is stale)"
	@echo "make relay - publish (or, with no queue configured, log) pending order events once"
	@echo "make bench - load, a drop on one product (buckets, sold out, overload, the sweep),"
	@echo "             exchanges and cold start, ours beside a FastAPI baseline (~8 min;"
	@echo "             BENCH_SECONDS=10 per run, WORKERS/THREADS/DB_POOL_SIZE; see docs/performance.md)"

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Python 3.11+ is required ($(PYTHON) is older)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python venv module missing: installing python3-venv with apt"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --require-hashes -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# uv resolves once for every platform and Python >= 3.11 (--universal) and records the hashes of
# every file of each pinned version: the same lock installs the dev venv here and the Lambda's
# manylinux wheels for Python 3.12 (pip-compile resolves for the running platform only). The dev
# lock comes first; the runtime lock is resolved within it, so the zips ship the versions the
# tests ran against.
LOCK_FLAGS ?=
UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 \
  --generate-hashes --custom-compile-command 'make lock' $(LOCK_FLAGS)

lock: venv
	$(UV_COMPILE) requirements-dev.in --output-file requirements-dev.txt
	$(UV_COMPILE) requirements.in --constraint requirements-dev.txt --output-file requirements.txt

# supabase-js for the page and Swagger UI for /functions/v1/docs, from the lock file (re-run when
# it changes). No install scripts: no package in either npm lock needs one (serverless, aws-sdk
# and es5-ext only print messages), and swagger-ui-dist's dependency @scarf/scarf would report
# the install to its vendor.
$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { echo "npm missing: installing Debian's nodejs and npm"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	cd frontend && npm ci --ignore-scripts --no-audit --no-fund
	@rm -f frontend/node_modules/.installed-*
	@touch $@

frontend: $(NODE_STAMP)

# The browser tests drive Debian's chromium (Playwright cannot download its own here).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

browser: $(CHROMIUM)

run: venv frontend
	$(PY) -m devstack.run

test: lint frontend browser npm pgbouncer
	$(PY) -m pytest

# No PostgreSQL needed: DATABASE_URL points at a closed port, so any use of it fails at once.
unit: venv
	DATABASE_URL=postgresql://u:p@127.0.0.1:9/none $(PY) -m pytest tests/unit -q

# The command suites also run through a real transaction-mode pooler (tests/pooler.py).
pgbouncer:
	@command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || { \
	  echo "installing pgbouncer with apt (tests run the suites through a transaction pooler)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; }

# black formats; ruff finds what formatting cannot (pyflakes, import order, bugbear, ...).
lint: venv
	$(VENV)/bin/black --check .
	$(VENV)/bin/ruff check .

fmt: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/black .

db: venv
	$(PY) -m devstack.run --only-db

# wrk drives the load; gcc builds bench/delay_proxy.c, which puts the database 1 ms away.
bench: venv
	@command -v wrk >/dev/null || { echo "wrk missing: installing it with apt"; \
	  apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 wrk; }
	@command -v gcc >/dev/null || { echo "gcc missing: installing it with apt"; \
	  apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 gcc; }
	$(PY) -m bench

keys: venv
	$(PY) -m devstack.devkeys

# The Serverless Framework CLI (v3, pinned in package-lock.json), for the deployment tests.
$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  echo "npm missing: installing nodejs and npm with apt"; \
	  apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@rm -f node_modules/.installed-*
	@touch $@

npm: $(NPM_STAMP)

package: venv
	$(PY) -m deploy.package

openapi: venv
	$(PY) -m functions.openapi

relay: venv
	$(PY) -m devstack.relay

clean:
	rm -rf $(VENV) .data dist .pytest_cache frontend/node_modules test-artifacts node_modules .serverless
