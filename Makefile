# Embedding Studio: `make run` starts the platform, `make test` runs the whole test suite.
# Both create .venv and install the project into it first; the install is skipped while
# pyproject.toml is unchanged (a stamp file named after its hash marks a finished install).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# torch is installed first and pinned: 2.13.0 is the CPU build; any other version pulls CUDA.
TORCH ?= torch==2.13.0
HASH := $(shell sha256sum pyproject.toml | cut -c1-16)
RUN_STAMP := $(VENV)/.installed-run-$(HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(HASH)
PYTEST_FLAGS ?= -q -p no:cacheprovider --timeout=900 -ra
TESTS ?= tests
ARGS ?=

# pgserver keeps a lock file in the user's runtime dir, which must exist with mode 0700.
export XDG_RUNTIME_DIR ?= /tmp/runtime-$(shell id -u)
$(shell mkdir -p $(XDG_RUNTIME_DIR) && chmod 700 $(XDG_RUNTIME_DIR))

.PHONY: run test install install-dev lint compose-check clean-venv bench bench-quick

run: install
	$(BIN)/embedding-studio up $(ARGS)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_FLAGS) $(TESTS)

# A dev install satisfies `run` too.
install: $(if $(wildcard $(DEV_STAMP)),$(DEV_STAMP),$(RUN_STAMP))

install-dev: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): | $(BIN)/python
	$(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install -e .
	rm -f $(VENV)/.installed-run-*
	touch $@

$(DEV_STAMP): | $(BIN)/python
	$(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# The benchmark suite (benchmarks/harness): starts its own embedded platform and writes
# benchmarks/results/<date>/ (report.md, figures.json, PNG plots). `make bench` is the full
# run (54 minutes on 2 cores: the speed sections 25, most of it embedding 100,000 objects
# and re-embedding them in the reindex, the quality section 24, most of it fine-tuning;
# ARGS="--sections ..." runs a part); `make bench-quick`, or
# `make bench ARGS=--quick`, the quick one (under 10 min). ARGS passes options, e.g. ARGS="--quick --dataset PATH --sections quality".
bench: install-dev
	$(BIN)/python -m benchmarks.harness $(ARGS)

bench-quick: install-dev
	$(BIN)/python -m benchmarks.harness --quick $(ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy embedding_studio

compose-check: install-dev
	$(BIN)/docker-compose -f docker-compose.yml config -q

clean-venv:
	rm -rf $(VENV)
