# Two commands on a fresh machine with Python 3.11+, its venv module and make
# (Debian/Ubuntu: apt-get install python3 python3-venv make git):
#   make run    set up .venv, migrate, load the demo district, serve http://127.0.0.1:8000/
#               (elsewhere: make run HOST=0.0.0.0:8000)
#   make test   set up .venv with the dev extra and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test lint bench clean

# The virtualenv counts as made once its pip works: a failed attempt (Debian without
# python3-venv creates bin/python but no pip) leaves no .venv behind, and a half-made one
# from an earlier attempt is made again.
$(BIN)/pip:
	@test -n "$(PYTHON)" || { echo "需要 Python 3.11+ / needs Python 3.11+: sudo apt-get install python3 python3-venv" >&2; exit 1; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { echo "需要 python3-venv / python3 -m venv needs python3-venv: sudo apt-get install python3-venv" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --upgrade pip || { rm -rf $(VENV); exit 1; }

# The code runs from this folder (manage.py), so the project is installed for its
# dependencies only: a plain install, as in deployment, not an editable one (pyproject.toml
# declares no packages; setuptools warns about every editable install).
$(VENV)/.runtime: pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/pip
	$(BIN)/pip install --quiet '.[dev]'
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
	$(BIN)/python bench/notifications.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/page_weight.py
	$(BIN)/python bench/redemption.py
	$(BIN)/python bench/upload_memory.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
