# The two commands: `make run` and `make test`. Everything they need is installed from here.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed
PO_FILES := $(wildcard fundapp/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test install services test-imports test-postgres test-sqlite worker translations-extract translations-update clean bench

run: install
	$(FLASK) db upgrade
	$(FLASK) fund demo
	./scripts/serve.sh

test: install services node_modules/axe-core/axe.min.js
	$(MAKE) --no-print-directory test-imports test-postgres test-sqlite

install: $(STAMP) $(MO_FILES)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fundapp needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Catalogues are compiled at install; the .mo files are not kept in git.
fundapp/translations/%/LC_MESSAGES/messages.mo: fundapp/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@

services:
	./scripts/ensure-services.sh

# axe-core, pinned in package.json and package-lock.json, for tests/browser/test_accessibility.py.
# npm comes with `services` (scripts/ensure-services.sh installs it when missing), hence the order.
node_modules/axe-core/axe.min.js: package.json package-lock.json | services
	npm ci --no-audit --no-fund
	touch $@

# The layers contract (.importlinter, docs/architecture.md): no feature imports one above it, no cycle.
test-imports:
	$(VENV)/bin/lint-imports

# The whole suite on PostgreSQL and Redis, then the marked subset on the embedded SQLite default.
test-postgres:
	$(PY) -m pytest

test-sqlite:
	FUNDAPP_TEST_DATABASE_URL=sqlite:///$(CURDIR)/instance/test-sqlite.db FUNDAPP_TEST_REDIS_URL=none \
		$(PY) -m pytest -m sqlite -p no:cacheprovider

# Not part of `make test`: fundapp against plain SQL on a seeded database (docs/performance.md).
# BENCH_APPLICATIONS=1000 make bench for a smaller run.
bench: install services
	$(PY) scripts/bench/run.py

worker: install
	$(FLASK) rq worker

translations-extract: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k _pg:1c,2 -k lazy_ngettext:1,2 -o fundapp/translations/messages.pot .

translations-update: translations-extract
	$(VENV)/bin/pybabel update -i fundapp/translations/messages.pot -d fundapp/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance/*.sqlite3 instance/*.db
	find fundapp/translations -name '*.mo' -delete
