# Credit Attribution: the two commands a reader needs are `make lab` and `make test`.
# Both create .venv when it is missing and install the pinned course environment into it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Extra options for JupyterLab, e.g. make lab LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=
# Your working copies of the notebooks (git-ignored); make progress runs them, TIMEOUT seconds each at most.
MY_NOTEBOOKS ?= my-notebooks
TIMEOUT ?= 600
NOTEBOOK ?=
# make progress re-runs only the notebooks changed since their last report; RERUN=1 re-runs them all.
RERUN ?=
# Keep the Python 3.11 debugger warning out of notebook stderr (nbval compares stderr).
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NBVAL_SOLUTIONS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg solutions
NBVAL_CHAPTERS  := --nbval-lax --nbval-current-env chapters

# pytest exits 5 when a selection holds no test: that is an empty selection, not a failure.
define pytest
	@echo "pytest $(strip $(1))"
	@$(BIN)/python -m pytest $(1); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no tests collected in: $(1) (treated as success)"; exit 0; fi; exit $$rc
endef

.PHONY: help install lab progress fresh test test-unit test-fast test-solutions test-chapters test-portable test-lowest lint chapters check-chapters solutions site test-site lock benchmarks clean

help:
	@echo "make lab        create .venv if needed, install, copy new chapters into $(MY_NOTEBOOKS)/, open JupyterLab"
	@echo "                on 00_welcome (later: on the notebook you changed last)"
	@echo "make progress   run your notebooks in $(MY_NOTEBOOKS)/ and list every exercise: correct, incorrect, not attempted..."
	@echo "                (only those changed since their last report; RERUN=1 runs all, NOTEBOOK=03 just one)"
	@echo "make fresh NOTEBOOK=03   a fresh copy of one notebook (yours moves to $(MY_NOTEBOOKS)/old/)"
	@echo "make test       create .venv if needed, install, run the whole test suite"
	@echo "make test-fast  between commits: the unit tests less those marked slow, and no notebooks"
	@echo "make lint       ruff on the library, tests, tools and benchmarks (rules in pyproject.toml)"
	@echo "make test-portable  the library's numerics and solutions/ under other CPU kernels and thread counts"
	@echo "make test-lowest    unit tests with the lowest versions pyproject.toml allows (in .venv-lowest)"
	@echo "make chapters   regenerate chapters/ from solutions/"
	@echo "make solutions  re-run solutions/ in place (fresh outputs), then regenerate chapters/"
	@echo "make site       build the course website into build/site/ (open build/site/index.html; docs/site.md)"
	@echo "make test-site  the website in headless Chromium (apt-get install chromium chromium-driver)"
	@echo "make benchmarks run the scripts in benchmarks/ and print their figures"
	@echo "make lock       re-resolve requirements.in into requirements.txt"

# On Linux, tools/install_torch.py first installs torch's CPU build from PyTorch's index (TORCH_INDEX_URL),
# falling back within seconds to the normal install when that index is unreachable.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing the course environment into $(VENV): the first time, about 330 MB of downloads (190 MB of it torch), a few minutes."
	@$(BIN)/python tools/install_torch.py requirements.txt
	@$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@
	@echo "The course environment is ready in $(VENV)."

install: $(STAMP)

# JupyterLab opens my-notebooks/00_welcome.ipynb, or the notebook you changed last (tools/workspace.py start).
lab: $(STAMP)
	@$(BIN)/python tools/workspace.py seed --work $(MY_NOTEBOOKS)
	@first=$$($(BIN)/python tools/workspace.py start --work $(MY_NOTEBOOKS)) || exit 1; \
	echo "Starting JupyterLab on $$first (chapters/ and solutions/ are one folder up). Stop it with Ctrl-C."; \
	JUPYTER_CONFIG_PATH="$(CURDIR)/tools/jupyter$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) --ServerApp.root_dir=. \
		--LabApp.default_url=/lab/tree/$$first $(LAB_ARGS)

progress: $(STAMP)
	@$(BIN)/python tools/workspace.py seed --work $(MY_NOTEBOOKS)
	@$(BIN)/python tools/progress.py --timeout $(TIMEOUT) --cache $(MY_NOTEBOOKS)/.progress-cache.json \
		$(if $(filter-out 0 no,$(RERUN)),--rerun) \
		$(if $(NOTEBOOK),$(MY_NOTEBOOKS)/$(basename $(notdir $(NOTEBOOK))).ipynb,$(MY_NOTEBOOKS))

fresh:
	@$(PYTHON) tools/workspace.py fresh --work $(MY_NOTEBOOKS) $(NOTEBOOK)

test: test-unit test-solutions test-chapters

test-unit: $(STAMP)
	$(call pytest,tests)

# For contributors between commits: the unit tests less those marked slow (more than about 5 s each, see
# pyproject.toml's markers) and without the notebooks. make test (what CI runs) still runs everything.
test-fast: $(STAMP)
	$(call pytest,tests -m 'not slow')

lint: $(STAMP)
	$(BIN)/ruff check .

test-solutions: $(STAMP)
	$(call pytest,$(NBVAL_SOLUTIONS))

test-chapters: $(STAMP)
	$(call pytest,$(NBVAL_CHAPTERS))

# Stored outputs must not depend on the machine. torch picks its CPU kernels by ATEN_CPU_CAPABILITY
# (default, avx2, avx512) and the thread count changes the order of reductions: re-run what depends on them under
# two other configurations than this machine's own, that is the compared notebooks (solutions/) and the unit tests
# of the library's numerics. Left out, by file (about 760 forked checks, most of the unit suite's time): the course
# harness's tests (the checker and the exercise registry: tests/checker/), whose verdicts compare an answer with a reference
# computed on the same machine, within tolerances far above round-off; and the tooling's tests (notebook
# structure, make_chapters, the reader's workflow and progress report, the project files, the website in a browser),
# which compute nothing numeric. A new test file is included unless listed here: list one only if nothing it asserts can change with
# the CPU kernels or the thread count.
PORTABLE_CONFIGS ?= default:1 avx2:2
PORTABLE_SKIP := --ignore=tests/checker \
	--ignore=tests/test_notebooks.py --ignore=tests/test_make_chapters.py \
	--ignore=tests/test_workflow.py --ignore=tests/test_progress.py --ignore=tests/test_project.py \
	--ignore=tests/test_site.py
test-portable: $(STAMP)
	@for config in $(PORTABLE_CONFIGS); do \
	  capability=$${config%%:*}; threads=$${config##*:}; \
	  echo "== portable run: ATEN_CPU_CAPABILITY=$$capability, $$threads thread(s)"; \
	  export ATEN_CPU_CAPABILITY=$$capability OMP_NUM_THREADS=$$threads OPENBLAS_NUM_THREADS=$$threads \
	    MKL_NUM_THREADS=$$threads; \
	  echo "pytest tests $(PORTABLE_SKIP)"; \
	  $(BIN)/python -m pytest tests $(PORTABLE_SKIP) || exit 1; \
	  $(MAKE) --no-print-directory test-solutions || exit 1; \
	done

# pyproject.toml's ranges hold: creditlib installed in a venv of its own with every dependency at its lower bound
# (tools/lowest_versions.py; what those need comes at the newest versions that fit, like uv's lowest-direct), the
# test tools at the lock's versions, then the unit tests. Left out: the four files that run or generate notebooks
# (they need the course's Jupyter stack, not the library's ranges), the website's browser test (Sphinx and selenium
# are course requirements too), and the Dask test (Dask is a course requirement, not a dependency of creditlib). On Linux, torch comes from PyTorch's CPU index when reachable;
# otherwise PyPI's build of the oldest torch is a CUDA build, about 2.7 GB of downloads and 5 GB in the venv.
LOWEST_VENV  ?= .venv-lowest
LOWEST_STAMP := $(LOWEST_VENV)/.installed
LOWEST_SKIP  := --ignore=tests/test_notebooks.py --ignore=tests/test_progress.py --ignore=tests/test_workflow.py \
	--ignore=tests/test_make_chapters.py --ignore=tests/test_site.py \
	--deselect tests/test_datamodels.py::test_a_dask_cluster_gives_the_same_outputs
$(LOWEST_STAMP): pyproject.toml requirements.txt tools/lowest_versions.py
	@rm -rf $(LOWEST_VENV)
	@echo "Creating $(LOWEST_VENV) with $(PYTHON): the lowest versions pyproject.toml allows"
	@$(PYTHON) -m venv $(LOWEST_VENV)
	@$(PYTHON) tools/lowest_versions.py pins > $(LOWEST_VENV)/pins.txt
	@cat $(LOWEST_VENV)/pins.txt
	@$(LOWEST_VENV)/bin/python tools/install_torch.py $(LOWEST_VENV)/pins.txt
	@$(LOWEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(LOWEST_VENV)/pins.txt -e .
	@$(LOWEST_VENV)/bin/python tools/lowest_versions.py verify
	@touch $@

test-lowest: $(LOWEST_STAMP)
	@echo "pytest tests (lowest versions) $(LOWEST_SKIP)"
	@$(LOWEST_VENV)/bin/python -m pytest tests $(LOWEST_SKIP)

chapters: $(STAMP)
	$(BIN)/python tools/make_chapters.py

check-chapters: $(STAMP)
	$(BIN)/python tools/make_chapters.py --check

solutions: $(STAMP)
	$(BIN)/python tools/run_solutions.py $(NOTEBOOKS)
	$(BIN)/python tools/make_chapters.py

# The course website (docs/site.md): the reader's notebooks with the stored outputs of solutions/, the worked
# answers, the creditlib API, into build/site/. Fails on any Sphinx warning (a broken reference, a missing image).
# SITE_EXECUTE=1 executes the reader's notebooks instead (11 minutes; cached in build/site-cache) and fails unless
# each cell outside the solution blocks printed what solutions/ stores: the check that reusing them is sound.
site: $(STAMP)
	$(BIN)/python tools/build_site.py

# The built site in headless Chromium (tests/test_site.py): here a missing browser or site fails, it does not skip.
test-site: $(STAMP)
	CREDIT_SITE_REQUIRED=1 $(BIN)/python -m pytest tests/test_site.py

benchmarks: $(STAMP)
	@for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lock:
	bash tools/lock_requirements.sh $(PYTHON)

clean:
	rm -rf $(VENV) $(LOWEST_VENV) build *.egg-info .hypothesis
