# One-command set-up for the LSTM forecasting course.
#   make lab    build .venv if needed, register the course kernel in it, serve JupyterLab on the course
#   make test   build .venv if needed, then run every test (unit + notebooks)
#   make course re-execute lesson and solution notebooks, regenerate exercises
#   make bench  table of each notebook's run time and peak memory
#   make bench-grader  time to grade a class of 30 with --jobs 2
#   make book   the web edition: static HTML of the executed lessons in build/book (no network needed)
#   make kernel (re)register the course kernel inside .venv (make lab does it every time)
# Re-running is cheap: .venv is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed

LAB_PORT ?= 8888
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; learners are not root.
ROOT_FLAG    := $(if $(filter 0,$(shell id -u)),--allow-root)
# Open a browser only where there is a screen to show it on.
BROWSER_FLAG := $(if $(or $(DISPLAY),$(WAYLAND_DISPLAY),$(filter Darwin,$(shell uname -s))),,--no-browser)

NOTEBOOK_DIRS := notebooks solutions
# Idle OpenMP threads sleep instead of spinning: with two test workers each running a notebook with two torch
# threads on two cores, spinning made small-LSTM training about 3x slower (measured on chapter 04). Numbers are
# unchanged (the wait policy does not change how sums are ordered).
export OMP_WAIT_POLICY := PASSIVE
PYTEST_ARGS ?= -n 2 --dist loadfile --nbval --nbval-current-env \
	--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 300

BOOK_DIR ?= build/book

.PHONY: env kernel lab test course bench bench-grader book clean

env: kernel

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test,book]"
	@touch $(STAMP)
	@echo "course environment ready in $(VENV)"

# The kernelspec lives inside .venv and starts .venv's python: it always belongs to this checkout.
# Rewritten on every run, so a moved or re-cloned checkout never starts another one's interpreter.
kernel: $(STAMP)
	@$(BIN)/python tools/course_kernel.py

lab: kernel
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --port=$(LAB_PORT) \
		$(BROWSER_FLAG) $(ROOT_FLAG) $(LAB_ARGS)

# The grader's tests run student code in a bubblewrap sandbox: install it (root on Debian/Ubuntu) or say how.
test: $(STAMP)
	@sh tools/ensure_bubblewrap.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS) tests $(NOTEBOOK_DIRS)

course: $(STAMP)
	$(BIN)/python -m course_lib.execute --inplace $(foreach d,$(NOTEBOOK_DIRS),$(wildcard $(d)/*.ipynb))
	$(BIN)/python -m course_lib.authoring
	$(BIN)/python -m course_lib.navigation

bench: $(STAMP)
	$(BIN)/python tools/bench.py $(foreach d,$(NOTEBOOK_DIRS) exercises,$(wildcard $(d)/*.ipynb))

bench-grader: $(STAMP)
	@sh tools/ensure_bubblewrap.sh
	$(BIN)/python tools/bench_grader.py --students 30 --jobs 2

# Stored outputs only (nothing is executed); -W: a broken link or missing figure fails the build.
book: $(STAMP)
	$(BIN)/python -m sphinx -q -W -c book . $(BOOK_DIR)
	@echo "web edition: $(BOOK_DIR)/index.html"

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
