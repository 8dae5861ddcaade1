# Thin wrappers; each target creates .venv from requirements.txt when it is missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?= paper

.PHONY: book pdf test smoke bench venv clean-smoke

venv: $(STAMP)

# Re-install when requirements change; register the venv's kernel for papermill.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m ipykernel install --sys-prefix --name cde-book --display-name "Python (cde-book)"
	touch $(STAMP)

# The paper profile builds the committed book in book/; any other profile builds a copy in
# build/<profile>/ (book/chapters and artifacts/paper are never overwritten by a quick run).
book: $(STAMP)
	$(PY) -m helpers build --profile $(PROFILE) $(if $(filter paper,$(PROFILE)),,--out-dir build/$(PROFILE))

# The committed book as one PDF (book/_build/pdf/book.pdf), printed by headless Chromium
# from the executed chapters: run `make book` first when they changed.
pdf: $(STAMP)
	$(PY) -m helpers pdf

# Two workers, each test file on one (its module fixtures stay shared): the suite mostly
# waits on single-threaded work (Sphinx, kernels starting, subprocesses), so on two cores
# this takes about 0.7x the wall time of one worker.
test: $(STAMP)
	$(PY) -m ruff check src tests benchmarks notebooks
	$(PY) -m ruff format --check src tests benchmarks
	$(PY) -m pytest -n 2 --dist loadfile

smoke: $(STAMP)
	$(PY) -m helpers build --profile smoke --out-dir build/smoke

bench: $(STAMP)
	$(PY) benchmarks/bench_limit.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_inference.py
	$(PY) benchmarks/bench_sizes.py
