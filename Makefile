# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py compilemessages --ignore=.venv >/dev/null 2>&1 || true
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# Two workers for the unit and API tests (each with its own test database); the browser and
# fault tests start servers and measure time, so they run alone afterwards.
test: install
	$(BIN)/python manage.py compilemessages --ignore=.venv >/dev/null 2>&1 || true
	$(BIN)/pytest -n 2 --ignore=tests/e2e
	$(BIN)/pytest tests/e2e

# Extract the strings marked for translation into locale/{sv,nb}, then compile the .mo files
# (committed, so a machine without gettext still shows translations).
messages: install
	$(BIN)/python manage.py makemessages -l sv -l nb --ignore=.venv --ignore=tests --ignore=bench --no-location
	$(BIN)/python manage.py compilemessages --ignore=.venv

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python .ci/mypy_baseline.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
