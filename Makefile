# Two set-up commands: `make demo` and `make test`. Both build .venv from scratch if it is missing.
PY ?= python3.10
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-unit test-all lint bench clean docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lava,dev,byom]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mskd demo

test: $(STAMP) docs
	$(BIN)/python -m pytest -q -m "not slow" tests

# the fast unit tests alone (under two minutes): a developer's inner loop
test-unit: $(STAMP)
	$(BIN)/python -m pytest -q -m "unit and not slow" tests

test-all: $(STAMP)
	$(BIN)/python -m pytest -q tests

# the docs site; --strict (and mkdocs.yml's validation) makes a broken link, anchor or nav entry fail
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

lint: $(STAMP)
	$(BIN)/ruff check mskd train convert deploy profiling hw_profiles tests scripts

clean:
	rm -rf $(VENV) build *.egg-info
