# Two commands matter: `make run` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: help venv run test lint fmt db keys clean bench

help:
	@echo "make run   - start the local stack (embedded PostgreSQL + functions) on 127.0.0.1"
	@echo "make test  - black --check, then the whole test suite against a fresh database"
	@echo "make db    - apply sql/ to the development database"
	@echo "make keys  - print a fresh ES256 JWKS and a dev token"
	@echo "make fmt   - format the code with black"
	@echo "make bench - load, exchanges and cold start, ours beside a FastAPI baseline (~4 min;"
	@echo "             BENCH_SECONDS=10 per run, WORKERS/THREADS/DB_POOL_SIZE; see docs/performance.md)"

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Python 3.11+ is required ($(PYTHON) is older)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python venv module missing: installing python3-venv with apt"; \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

run: venv
	$(PY) -m devstack.run

test: lint
	$(PY) -m pytest

lint: venv
	$(VENV)/bin/black --check .

fmt: venv
	$(VENV)/bin/black .

db: venv
	$(PY) -m devstack.run --only-db

bench: venv
	@command -v wrk >/dev/null || { echo "wrk missing: installing it with apt"; \
	  apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=300 wrk; }
	$(PY) -m bench

keys: venv
	$(PY) -m shared.devkeys

clean:
	rm -rf $(VENV) .data dist .pytest_cache
