# The three targets every contributor, the README and CI rely on:
#   make setup  – create .venv and install the pinned dependencies (idempotent, fast when nothing changed)
#   make run    – setup, migrate the database, seed the demo data, serve http://127.0.0.1:8000
#   make test   – setup, then run every check and test
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: setup run test lint check vendor messages

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@scripts/os_packages.sh pdf
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST):$(PORT)

check: setup
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

lint: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

test: setup check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Regenerate the fr/en catalogues after changing user-visible strings (needs GNU gettext).
messages: setup
	$(PY) manage.py makemessages -l fr -l en --no-obsolete --no-location --ignore=.venv --ignore=node_modules --ignore=var --ignore=static --ignore=tests
	$(PY) scripts/fill_en_catalogue.py
	$(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules

# Rebuild static/vendor/ from the versions pinned in package.json (needs Node; the result is committed).
vendor:
	npm ci && npm run vendor
