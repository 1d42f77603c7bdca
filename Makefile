# Nuzzle — the two commands a newcomer needs:
#   make run    set up (venv, pinned dependencies, database, demo couple) and start web + worker + beat
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

# The clock-sensitive tests, run by `make test-clock` at each of these UTC times (today's
# date) with the clock pinned (tests/clock.py): the hours at which partners a day apart
# live different dates. Any single run: NUZZLE_TEST_NOW=03:00 make test PYTEST_ARGS=...
CLOCK_TIMES ?= 00:30 03:00 09:30 11:59 23:30
CLOCK_TESTS ?= tests/lib/test_timezones.py tests/checkins tests/dashboard tests/prompts \
	tests/lovemaps tests/nudges tests/browser/test_checkin_journey.py \
	tests/browser/test_question_journey.py tests/browser/test_long_distance_journey.py

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

run: setup
	@echo ""
	@echo "  Nuzzle is starting at  http://$(HOST):$(PORT)/"
	@echo "  Demo couple: sam@example.com and alex@example.com, password: nuzzle-demo"
	@echo "  Emails are written to var/mail/. Stop with Ctrl+C."
	@echo ""
	SITE_URL=$(SITE_URL) NUZZLE_HOST=$(HOST) NUZZLE_PORT=$(PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

test: $(VENV)/.installed-dev lint typecheck
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-clock: $(VENV)/.installed-dev
	@for at in $(CLOCK_TIMES); do \
		echo "==> the clock pinned at $$at UTC"; \
		NUZZLE_TEST_NOW=$$at $(BIN)/pytest -n $(TEST_WORKERS) -q $(CLOCK_TESTS) || exit 1; \
	done

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

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
