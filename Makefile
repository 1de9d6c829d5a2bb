# Yizhan: `make run` starts the system with demo data, `make test` runs the suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint messages demo clean venv

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

run: venv
	YIZHAN_DEBUG=$${YIZHAN_DEBUG:-1} $(BIN)/yizhan migrate --noinput
	YIZHAN_DEBUG=$${YIZHAN_DEBUG:-1} $(BIN)/yizhan build_demo --if-empty
	YIZHAN_DEBUG=$${YIZHAN_DEBUG:-1} YIZHAN_PORT=$(PORT) $(BIN)/honcho start

test: venv
	$(BIN)/python -m pytest -q -n auto $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-extract translatable strings into every catalogue and compile them (pure Python, no gettext needed).
messages: venv
	YIZHAN_DEBUG=1 $(BIN)/yizhan i18n

clean:
	rm -rf $(VENV) var/*.sqlite3*
