# Fresh machine: `make demo` runs the diagnosis on the bundled demo platform; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-unit lint bench clean lock

# Every extra plus the test tools, each transitive dependency at the version in requirements.lock (a constraints
# file, so a dependency dropped from pyproject.toml is not installed); `make lock` regenerates it after a pin
# changes (scripts/lock.sh resolves '.[test]' afresh from PyPI).
$(BIN)/sre-expert: pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	@touch $@

# `check` exits 1 when it finds problems, which is the point of the demo.
demo: $(BIN)/sre-expert
	$(BIN)/sre-expert check --demo || [ $$? -eq 1 ]

# Every test, after the static gates: ruff (pyproject's rules) and mypy (strict on core, checks and diagnosis).
test: lint
	bash scripts/install-test-programs.sh
	$(BIN)/pytest

lint: $(BIN)/sre-expert
	$(BIN)/ruff check .
	$(BIN)/mypy

# The fast tier: pure tests that start no program (tests/conftest.py keeps the tiers true); nothing to install.
test-unit: $(BIN)/sre-expert
	$(BIN)/pytest -m unit

bench: $(BIN)/sre-expert
	$(BIN)/python benchmarks/bench_check.py

lock:
	PY=$(PY) bash scripts/lock.sh

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
