# The two commands of the README:
#   make demo  - install into .venv and run the default study on the embedded sample
#   make test  - install into .venv (with dev tools and Chromium when possible), check lint, format and types
#                (ruff, ruff format, mypy), and run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-dev lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	bash scripts/ensure_chromium.sh

demo: install
	$(BIN)/ordos-geo run

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/python benchmarks/bench_accessibility.py
	$(BIN)/python benchmarks/bench_siting.py
	$(BIN)/python benchmarks/bench_trails.py
	$(BIN)/python benchmarks/bench_end_to_end.py --sizes 100000 400000 --run-args --no-siting

clean:
	rm -rf $(VENV) data/processed/* outputs/*
