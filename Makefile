# make run  - set up a virtualenv, migrate the SQLite database, serve the demo on :5000
#             (another port: make run PORT=5077)
# make test - set up the virtualenv with test tools, lint, run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN = $(VENV)/bin
export FLASK_APP = app

.PHONY: run test check docs translations clean

# Running needs only the runtime packages; the test tools (scipy, Playwright...) come with `make test`.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/.installed
	FLASK_DEBUG=1 $(BIN)/flask db upgrade
	FLASK_DEBUG=1 $(BIN)/flask run --port $(PORT)

test: $(BIN)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/pytest

check: $(BIN)/.installed
	$(BIN)/flask kit check

clean:
	rm -rf $(VENV) instance .pytest_cache

docs: $(BIN)/.installed
	$(BIN)/flask kit reference --write README.md

translations: $(BIN)/.installed
	$(BIN)/flask kit translations
