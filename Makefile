# q7x2 — every target sets itself up: a fresh clone needs only python3 (3.11+), make and a package index.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORPUS ?=
OUT ?=
CODE ?= fold
# CORPUS and OUT reach the q7x2 command as they were typed: make does not expand $(...) in them
# and no shell reads them as code (they travel in the environment, quoted where used).
override CORPUS := $(value CORPUS)
override OUT := $(value OUT)
export CORPUS OUT CODE

# Keep Jupyter, IPython and matplotlib state inside the project: register nothing in $HOME.
export JUPYTER_CONFIG_DIR := $(CURDIR)/$(VENV)/etc/jupyter
export JUPYTER_RUNTIME_DIR := $(CURDIR)/$(VENV)/var/jupyter/runtime
export JUPYTERLAB_SETTINGS_DIR := $(CURDIR)/$(VENV)/etc/jupyterlab/settings
export JUPYTERLAB_WORKSPACES_DIR := $(CURDIR)/$(VENV)/etc/jupyterlab/workspaces
export IPYTHONDIR := $(CURDIR)/$(VENV)/etc/ipython
export MPLCONFIGDIR := $(CURDIR)/$(VENV)/etc/matplotlib
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# No progress bars in executed notebooks (make lab turns them back on: q7x2 lab).
export Q7X2_PROGRESS := 0

.PHONY: help env figures test lint unit nbval lab lock clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

env: $(STAMP) ## create .venv and install the package with its pinned dependencies

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "q7x2 needs Python 3.11 or newer (pandas 3); set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

figures: $(STAMP) ## run every notebook (papermill) and write figures/; CORPUS=<path> OUT=<dir> for another corpus
	$(BIN)/q7x2 figures $${CORPUS:+--corpus "$$CORPUS"} $${OUT:+--out "$$OUT"}

test: lint unit nbval ## lint, unit tests, and nbval against the committed notebook outputs

lint: $(STAMP) ## ruff, and the import contract: the package's stages import one way (pyproject.toml)
	$(BIN)/ruff check q7x2_lib tests $(wildcard benchmarks)
	$(BIN)/lint-imports

unit: $(STAMP) ## the unit tests
	$(BIN)/pytest tests

nbval: $(STAMP) ## re-run the notebooks and compare with their committed outputs
	$(BIN)/pytest --nbval notebooks --nbval-current-env --nbval-sanitize-with .ci/nbval-sanitize.cfg \
		-p no:cacheprovider -o filterwarnings=error

PORT ?=
NO_BROWSER ?=
lab: $(STAMP) ## JupyterLab on the notebooks (progress bars on); PORT=<n>, NO_BROWSER=1 on a remote machine
	$(BIN)/q7x2 lab $(if $(PORT),--port "$(PORT)") $(if $(NO_BROWSER),--no-browser)

lock: ## re-resolve the dependencies from pyproject.toml and rewrite requirements.lock
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet -e '.[dev,browser]'
	$(VENV)-lock/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf $(VENV)-lock

clean: ## remove caches, runs/ and reports/ (keeps .venv)
	rm -rf .pytest_cache .ruff_cache .hypothesis runs reports
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean ## also remove .venv
	rm -rf $(VENV)

# --- reports and the browser test ---------------------------------------------------------
override CODE := $(value CODE)
BROWSER_STAMP := $(VENV)/.installed-browser
.PHONY: report test-browser

report: $(STAMP) ## notebooks as self-contained HTML in reports/; CORPUS= OUT=: run, then OUT/reports; CODE=hide
	@case "$$CODE" in fold|hide|show) ;; *) echo "make report: CODE must be fold, hide or show" >&2; exit 2;; esac
	$(BIN)/q7x2 report $${CORPUS:+--corpus "$$CORPUS"} $${OUT:+--out "$$OUT"} "--$$CODE-code"

$(BROWSER_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[browser]'
	@touch $@

test-browser: $(BROWSER_STAMP) ## JupyterLab end to end in headless Debian Chromium (no browser download); screenshots in runs/browser/
	@mkdir -p runs/browser
	Q7X2_REQUIRE_BROWSER=1 Q7X2_SCREENSHOTS="$(CURDIR)/runs/browser" $(BIN)/pytest tests/browser -p no:cacheprovider

# --- benchmarks ---------------------------------------------------------------------------
.PHONY: bench bench-peers
BENCH_STAMP := $(VENV)/.installed-bench

# ConvoKit, the peer of the reading benchmark, without its torch-heavy requirements; a machine
# that cannot install it still benchmarks (the peer is reported as skipped).
$(BENCH_STAMP): $(STAMP) benchmarks/requirements-convokit.txt
	$(BIN)/python -m pip install --quiet --no-deps -r benchmarks/requirements-convokit.txt \
		|| echo "ConvoKit could not be installed: its benchmark will say skipped"
	@touch $@

bench: $(STAMP) $(BENCH_STAMP) ## benchmarks at 100-10,000 conversations: read vs floor, Parquet, workers, metrics, figures, peers
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/viewer.py
	$(BIN)/python benchmarks/semantic.py
	$(BIN)/python benchmarks/peers.py

bench-peers: $(STAMP) $(BENCH_STAMP) ## reading vs the per-format floor, ConvoKit and a pandas script; passes, growth, Dask (BENCH_CORPUS=)
	$(BIN)/python benchmarks/peers.py

.PHONY: bench-semantic
bench-semantic: $(STAMP) ## embeddings, semantic drift, basins, time to attractor beside lexical drift (BENCH_CORPUS=, BENCH_SEMANTIC_N=)
	$(BIN)/python benchmarks/semantic.py

.PHONY: bench-viewer
bench-viewer: $(STAMP) ## the chat view, search and the conversation table at real lengths, against floors
	$(BIN)/python benchmarks/viewer.py

.PHONY: bench-coverage
bench-coverage: $(STAMP) ## coverage of intervals and false positives of tests on simulated autocorrelated runs
	$(BIN)/python benchmarks/coverage.py
