# The two commands of the README: `make run` (the default study) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Pinned CPU torch first: an unpinned torch would pull several GB of CUDA packages.
TORCH := torch==2.13.0
CORES ?= all

.PHONY: run test install install-test dry-run lint rulegraph clean

$(BIN)/python:
	$(shell command -v $(PYTHON) >/dev/null 2>&1 && echo $(PYTHON) || echo python3) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/snakemake --cores $(CORES)
	@$(BIN)/python -m guiding.report.summary

dry-run: install
	$(BIN)/snakemake -n

test: install-test
	$(BIN)/python -m pytest -q

# Style, layering and workflow checks (also run by .ci/run).
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check .

# The rule graph shown in the README (needs Graphviz's dot).
rulegraph: install
	$(BIN)/snakemake --rulegraph | dot -Tsvg > docs/rulegraph.svg

clean:
	rm -rf results .snakemake
