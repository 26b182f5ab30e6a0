# `make demo` and `make test` each set up .venv on first use, then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test run notebooks sysdeps lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m models.softmax_regression

# Any course model with its flags: make run MODEL=mlp ARGS="--epochs 5 --hidden 128"
MODEL ?= softmax_regression
run: $(STAMP)
	$(BIN)/python -m models.$(MODEL) $(ARGS)

# Re-execute the tutorial notebooks in place, storing their outputs.
notebooks: $(STAMP) sysdeps
	$(BIN)/python scripts/run_notebooks.py

test: $(STAMP) sysdeps
	$(BIN)/python -m pytest -q --markdown-docs tests docs README.md

# Graphviz's `dot` (rendered-graph tests), the full Fashion-MNIST (full-data tests), pango
# (report PDFs) and poppler (checking them) are Debian packages: installed here when missing
# and we are root; otherwise those tests skip or say what to install.
sysdeps:
	@if { ! command -v dot >/dev/null || ! command -v pdftoppm >/dev/null \
	      || [ ! -d /usr/share/datasets/fashion-mnist ]; } \
	    && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq graphviz dataset-fashion-mnist \
	    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils >/dev/null; fi

lint: $(STAMP)
	$(BIN)/ruff check tinygrad_hw tests models benchmarks scripts

# Speed ratios against hand-written numpy and PyTorch (when installed: pip install -e
# '.[bench]'), memory, time to 84%; results in runs/bench/results.json. Flags go in
# BENCH_ARGS, e.g. make bench BENCH_ARGS="--quick --sections steps,op".
bench: $(STAMP)
	$(BIN)/python benchmarks/suite.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
