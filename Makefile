# Two commands do all the set-up on a fresh Debian machine (as root):
#   make run   installs what is needed, generates the demo extract if missing, starts the app
#   make test  installs what is needed and runs the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
DEMO_DATA := data/demo
DATA ?= $(DEMO_DATA)
# Chromium's headless shell: the pack (its charts and its printing) and the browser tests; poppler-utils: PDF
# checks; DejaVu: the pack's layout; postgresql: the review database's tests run against a real server they
# start themselves.
SYSTEM_PACKAGES := chromium-headless-shell poppler-utils fonts-dejavu-core postgresql

.PHONY: run test lint bench setup system-packages

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

setup: system-packages $(VENV)/.installed

system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(DEMO_DATA)/manifest.json: | $(VENV)/.installed
	$(PY) -m housing_assurance demo-data --out $(DEMO_DATA)

# Demo mode (no sign-in; the visitor picks a demo user from the demo's own access file) only for the
# built-in demo. Any other DATA (an extract folder or a prepared store) needs sign-in: an [auth] section
# in .streamlit/secrets.toml and the users in settings/access.toml (docs/security.md).
ifeq ($(DATA),$(DEMO_DATA))
DEMO_EXTRACT := $(DEMO_DATA)/manifest.json
RUN_ENV := HOUSING_ASSURANCE_DEMO_MODE=1 HOUSING_ASSURANCE_ACCESS=$(abspath $(DATA))/access.toml
endif

# An extract folder is prepared once (a store in data/stores) before the app serves it.
run: setup $(DEMO_EXTRACT)
	@if [ -d "$(DATA)" ]; then $(PY) -m housing_assurance prepare "$(DATA)"; fi
	$(RUN_ENV) HOUSING_ASSURANCE_DATA=$(DATA) $(VENV)/bin/streamlit run app.py --server.headless true \
		--server.address 0.0.0.0 --server.port $(PORT) --browser.gatherUsageStats false

# The suite starts some 130 Python processes (test processes, servers, commands): each reads compiled
# bytecode from .tmp/pycache instead of compiling every module again, even where the shell says
# PYTHONDONTWRITEBYTECODE (the source tree itself stays free of __pycache__ folders).
test: setup
	$(VENV)/bin/ruff check .
	env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(CURDIR)/.tmp/pycache $(PY) -m pytest -q -n 2 --dist loadfile

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
