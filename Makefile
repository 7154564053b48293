# Two commands matter: `make run` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: help venv run test lint fmt db keys clean pgbouncer

help:
	@echo "make run   - start the local stack (embedded PostgreSQL + functions) on 127.0.0.1"
	@echo "make test  - black --check, then the whole test suite against a fresh database"
	@echo "make db    - apply sql/ to the development database"
	@echo "make keys  - print a fresh ES256 JWKS and a dev token"
	@echo "make fmt   - format the code with black"

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

test: lint pgbouncer
	$(PY) -m pytest

# The command suites also run through a real transaction-mode pooler (tests/pooler.py).
pgbouncer:
	@command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || { \
	  echo "installing pgbouncer with apt (tests run the suites through a transaction pooler)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; }

lint: venv
	$(VENV)/bin/black --check .

fmt: venv
	$(VENV)/bin/black .

db: venv
	$(PY) -m devstack.run --only-db

keys: venv
	$(PY) -m shared.devkeys

clean:
	rm -rf $(VENV) .data dist .pytest_cache
