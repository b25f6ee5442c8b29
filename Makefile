# Two commands on a fresh machine with Python 3.11 and make:
#   make run    set up .venv, migrate, load the demo district, serve http://127.0.0.1:8000/
#   make test   set up .venv with the dev extra and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py runserver $(HOST)

test: $(VENV)/.dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.dev
	$(BIN)/python bench/admin_changelist.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/import_survey.py
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
