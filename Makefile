# Every user-facing target below builds what it needs by itself on a fresh
# machine: the venv (once, via a stamp file) and, if possible, Graphviz's `dot`.
# No activation: tools are called by their .venv/bin path.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Stamps, touched only after a successful install; redone when the dependency spec changes.
# STAMP: everything, `.[dev]` (test, demo, release, ...; 1.6 GB with torch).
# STUDENT_STAMP: the light `.[student]` that `make lab` and `make check` need (no torch).
STAMP := $(VENV)/.installed
STUDENT_STAMP := $(VENV)/.installed-student
# A venv that has (or had) the dev install stays one: lab and check then use it, refreshed
# as dev if the spec changed, so they never shrink it or reinstall it as a student's.
LIGHT_STAMP := $(if $(wildcard $(STAMP)),$(STAMP),$(STUDENT_STAMP))
CONSTRAINTS := requirements/constraints.txt
# Extra pytest flags, e.g. `make test PYTEST_ARGS="-m 'not slow'"`. The suite runs real
# Jupyter kernels, so it is spread over all cores, a file per worker: a file's tests share
# their notebook runs (xdist's loadgroup would be finer, but pytest 9.2 ignores its groups,
# pytest-dev/pytest-xdist#1386).
PYTEST_ARGS ?=
PYTEST_PARALLEL ?= -n auto --dist loadfile
# Throwaway venv for `make lock`, so the lock never inherits the dev venv's leftovers.
LOCK_VENV := build/lock-venv

.PHONY: help setup student-setup system-deps graphviz test test-pythons demo lab check release \
	bench lint format lock clean

help: ## list targets
	@grep -E '^[a-z.-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 15

# pip is upgraded to the constrained version first: the one ensurepip ships can be old.
# torch must stay ==2.13.0 in pyproject/constraints, or pip may fetch a multi-GB CUDA build.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) --upgrade pip
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e '.[dev]'
	touch $@

# The student's install, same pins. --no-compile: pip would otherwise write bytecode for
# every module of every package (94 of 416 MiB, mostly for modules a student never imports);
# Python writes it for the modules actually imported, on first import.
$(STUDENT_STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) --upgrade pip
	$(BIN)/python -m pip install -q --no-compile -c $(CONSTRAINTS) -e '.[student]'
	touch $@

# System binaries pip cannot provide: Graphviz's `dot` (graph drawing, every target),
# bubblewrap's `bwrap` (the grader's sandbox for student code) and Debian's Chromium (the
# browser tests in tests/browser/, so `make test` only). Root on Debian/Ubuntu (CI,
# containers) gets the missing ones installed; anyone else gets one hint line and carries
# on: graphs fall back to text, the browser tests skip, grading refuses without a sandbox.
SYSTEM_DEPS := graphviz bubblewrap
test: SYSTEM_DEPS := graphviz bubblewrap chromium
# A student's lab and check run no sandbox: Graphviz only.
student-setup lab check: SYSTEM_DEPS := graphviz
system-deps:
	@missing=""; \
	for package in $(SYSTEM_DEPS); do \
	  case $$package in graphviz) binary=dot ;; bubblewrap) binary=bwrap ;; *) binary=$$package ;; esac; \
	  command -v $$binary >/dev/null 2>&1 || missing="$$missing $$package"; \
	done; \
	if [ -z "$$missing" ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing$$missing with apt-get..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; } \
	    || echo "warning: apt-get could not install$$missing; graph drawing falls back to text, browser tests skip"; \
	else \
	  echo "note: not found:$$missing; e.g. sudo apt-get install$$missing (Graphviz draws graphs, also via brew or conda-forge; bubblewrap sandboxes the grader's kernels; Chromium runs tests/browser/, which skip without it)"; \
	fi

graphviz: system-deps  # the old name

setup: $(STAMP) system-deps ## create/refresh .venv (everything, .[dev]) and check for Graphviz
student-setup: $(LIGHT_STAMP) system-deps ## the light .venv lab and check need (.[student], no torch)

test: setup ## lint, format check, then the test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# The library's tests (tests of autograd_lite only, listed in the script) on every CPython 3.10+
# found at run time (pyenv's versions, python3, /usr/bin/python3*), each in its own venv under
# build/pythons/; see .ci/test-pythons for what runs where torch or numpy is missing.
test-pythons: setup ## run the library tests on every CPython 3.10+ on this machine
	.ci/test-pythons

# The main job: release the course, autograde the bundled sample class (grader/sample_class/),
# write feedback, grades.csv and report plots under build/demo/. The short cell timeout keeps
# the sample class's infinite loop from holding the demo up for the default 30 s.
demo: setup ## release the course and autograde the sample class into build/demo/
	$(BIN)/python -m grader --workdir build/demo --cell-timeout 10 demo

# From the repository root, so that in a dev venv nbgrader's Validate button (its server
# extension is enabled there) finds nbgrader_config.py; the student's install has no nbgrader:
# `make check` is its Validate. Extra flags with LAB_ARGS, e.g. LAB_ARGS=--no-browser.
LAB_ARGS ?=
# Students work in work/ (git-ignored), copied from notebooks/ where a notebook is missing
# there and never written by any other target: release and demo regenerate notebooks/.
lab: student-setup ## open your own copy of the notebooks (work/) in JupyterLab
	$(BIN)/python -m grader.workspace
	$(BIN)/jupyter lab work/ $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# `make check NOTEBOOK=work/01_scalars/scalars.ipynb`: the visible tests of one notebook,
# run as the grader runs them, with a summary of what passes.
NOTEBOOK ?=
check: student-setup ## run the visible tests of NOTEBOOK=work/NN_name/name.ipynb
	@test -n "$(NOTEBOOK)" || { echo "usage: make check NOTEBOOK=work/01_scalars/scalars.ipynb"; exit 2; }
	@# Exit 1 (some exercise fails) is news, not a make error; 2 (no such notebook...) is one.
	@$(BIN)/python -m grader check "$(NOTEBOOK)" || [ $$? = 1 ]

release: setup ## regenerate the student notebooks/ from solutions/ (nbgrader generate_assignment)
	$(BIN)/python -m grader.release

bench: setup ## run the benchmarks
	$(BIN)/python benchmarks/run.py

lint: setup ## ruff lint + format check, no changes
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup ## rewrite files: ruff format, then safe lint fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Resolve pyproject's ranges afresh in a clean venv and freeze the result. Run it with the
# oldest Python the course must install on (e.g. PYTHON=/usr/bin/python3, Debian 12's 3.11.2):
# pip picks the newest releases that Python accepts (soupsieve 4 needs 3.11.5 or newer).
# --all keeps pip/setuptools pinned too; the package itself (editable) is left out;
# local labels such as torch's "+cpu" are stripped so the pin works from any index.
lock: ## regenerate requirements/constraints.txt from a fresh venv
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install -q -e '.[dev]'
	{ \
	  echo "# Exact versions of every package in the course venv (pip freeze --all)."; \
	  echo "# Generated by \`make lock\` (fresh venv, newest releases pyproject.toml allows); do not edit by hand."; \
	  echo "# \`make setup\` installs with: pip install -c $(CONSTRAINTS) -e '.[dev]'"; \
	  echo "# torch's local label (+cpu) is stripped: ==2.13.0 still matches the CPU wheel."; \
	  echo "# environment.yml pins must agree with these (tests/test_environment.py)."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude-editable \
	    | grep -viE '^autograd[-_]lite( |=|@)' \
	    | sed -E 's/^([^=]+==[^+]+)\+.*$$/\1/'; \
	} > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf $(LOCK_VENV)
	@echo "Wrote $(CONSTRAINTS); update environment.yml pins to match, then run make test."

clean: ## remove the venv, build output and caches
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
