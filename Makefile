# Fresh machine: `make demo` runs the diagnosis on the bundled demo platform; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/sre-expert: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# `check` exits 1 when it finds problems, which is the point of the demo.
demo: $(BIN)/sre-expert
	$(BIN)/sre-expert check --demo || [ $$? -eq 1 ]

test: $(BIN)/sre-expert
	bash scripts/install-test-programs.sh
	$(BIN)/pytest

bench: $(BIN)/sre-expert
	$(BIN)/python benchmarks/bench_check.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
