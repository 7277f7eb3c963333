# One-command set-up for the LSTM forecasting course.
#   make lab    build .venv if needed, then serve JupyterLab on the course
#   make test   build .venv if needed, then run every test (unit + notebooks)
#   make course re-execute lesson and solution notebooks, regenerate exercises
#   make bench  table of each notebook's run time and peak memory
#   make bench-grader  time to grade a class of 30 with --jobs 2
# Re-running is cheap: .venv is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.course-installed
KERNEL := lstm-course

LAB_PORT ?= 8888
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; learners are not root.
ROOT_FLAG    := $(if $(filter 0,$(shell id -u)),--allow-root)
# Open a browser only where there is a screen to show it on.
BROWSER_FLAG := $(if $(or $(DISPLAY),$(WAYLAND_DISPLAY),$(filter Darwin,$(shell uname -s))),,--no-browser)

NOTEBOOK_DIRS := notebooks solutions
PYTEST_ARGS ?= -n 2 --dist loadfile --nbval --nbval-current-env \
	--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 300

.PHONY: env lab test course bench bench-grader clean

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --user --name $(KERNEL) \
		--display-name "Python (LSTM course)" >/dev/null
	@touch $(STAMP)
	@echo "course environment ready in $(VENV) (kernel '$(KERNEL)')"

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --port=$(LAB_PORT) \
		$(BROWSER_FLAG) $(ROOT_FLAG) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS) tests $(NOTEBOOK_DIRS)

course: $(STAMP)
	$(BIN)/python -m course_lib.execute --inplace $(foreach d,$(NOTEBOOK_DIRS),$(wildcard $(d)/*.ipynb))
	$(BIN)/python -m course_lib.authoring

bench: $(STAMP)
	$(BIN)/python tools/bench.py $(foreach d,$(NOTEBOOK_DIRS) exercises,$(wildcard $(d)/*.ipynb))

bench-grader: $(STAMP)
	$(BIN)/python tools/bench_grader.py --students 30 --jobs 2

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
