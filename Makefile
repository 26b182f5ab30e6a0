# `make demo` and `make test` each set up .venv on first use, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m models.softmax_regression

test: $(STAMP)
	$(BIN)/python -m pytest -q --markdown-docs tests docs README.md

lint: $(STAMP)
	$(BIN)/ruff check tinygrad_hw tests models benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_overhead.py
	$(BIN)/python benchmarks/bench_softmax_regression.py

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
