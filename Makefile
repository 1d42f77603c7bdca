# Nuzzle — the two commands a newcomer needs:
#   make run    set up (venv, pinned dependencies, database, demo couple) and start web + worker + beat
#               (make run PORT=8001 HOST=0.0.0.0 to serve elsewhere; Ctrl+C stops it all)
#   make test   lint, type-check, check migrations and run the whole test suite
# With DATABASE_URL / REDIS_URL set, both use PostgreSQL and Redis instead of the embedded defaults.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in invites and emails point here (settings.SITE_URL); override for another address.
SITE_URL ?= http://$(HOST):$(PORT)
# pytest-xdist workers; the suite is split across both cores by default.
TEST_WORKERS ?= 2

# `make test-clock` runs the whole suite (or CLOCK_TESTS) once at each of these UTC times
# of today's date, with the clock pinned (tests/clock.py): among them the hours at which
# partners a day apart live different dates. A single run: NUZZLE_TEST_NOW=03:00 make test.
CLOCK_TIMES ?= 00:30 03:00 09:30 11:59 23:30
CLOCK_TESTS ?= tests

.PHONY: run test test-clock setup lint typecheck pytest lock clean demo

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Nuzzle needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime dependencies, pinned by constraints.txt. The stamp file re-runs pip when pins change.
$(VENV)/.installed-run: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-run
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

setup: $(VENV)/.installed-run
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py nuzzle_setup

# honcho stops the processes on Ctrl+C: SIGTERM, then SIGKILL for any still running
# after KILL_WAIT seconds. Its default, 5 s, is shorter than a Celery worker's warm
# shutdown (which also lets a running task finish), so it gets STOP_WAIT.
STOP_WAIT ?= 20
HONCHO := $(BIN)/python -c 'import sys, honcho.command, honcho.manager; \
	honcho.manager.KILL_WAIT = int(sys.argv.pop(1)); sys.exit(honcho.command.main())'

# Ctrl+C is a clean stop, not an error. `set -m` runs honcho as its own job in the
# foreground, so the terminal's SIGINT reaches honcho alone (which stops the processes)
# and not make (which would report "Interrupt" and exit 130). honcho's own 130 after
# SIGINT then means "stopped as asked": exit 0. Any other status is passed on.
run: setup
	@echo ""
	@echo "  Nuzzle is starting at  http://$(HOST):$(PORT)/"
	@echo "  Demo couple: sam@example.com and alex@example.com, password: nuzzle-demo"
	@echo "  Emails are written to var/mail/. Stop with Ctrl+C."
	@echo ""
	@if [ -t 0 ]; then set -m; fi; \
	SITE_URL=$(SITE_URL) NUZZLE_HOST=$(HOST) NUZZLE_PORT=$(PORT) PATH="$(CURDIR)/$(BIN):$$PATH" \
		$(HONCHO) $(STOP_WAIT) start -f Procfile; \
	status=$$?; \
	if [ $$status -eq 130 ]; then echo "  Nuzzle stopped."; exit 0; fi; \
	exit $$status

test: $(VENV)/.installed-dev lint typecheck
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-clock: $(VENV)/.installed-dev
	@failed=""; for at in $(CLOCK_TIMES); do \
		echo "==> the clock pinned at $$at UTC"; \
		NUZZLE_TEST_NOW=$$at $(BIN)/pytest -n $(TEST_WORKERS) -q $(CLOCK_TESTS) || failed="$$failed $$at"; \
	done; \
	if [ -n "$$failed" ]; then echo "==> failed with the clock pinned at:$$failed UTC"; exit 1; fi

# lint-imports checks the layering contract in pyproject.toml (imports only point down);
# --no-cache leaves no cache directory in the checkout.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy .

# Re-resolve the whole dependency tree after changing a pin in pyproject.toml.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip && .venv-lock/bin/pip install --quiet -e ".[dev]"
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^#' > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) var
