# The two commands of the README: `make run` (the default study) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Torch pinned as in pyproject.toml. On Linux x86-64, PyPI's torch is the CUDA build (several GB of
# CUDA libraries), so torch comes from PyTorch's CPU index unless TORCH_INDEX says otherwise:
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cu128   # a CUDA build
#   make run TORCH_INDEX=                                          # PyPI's default build
TORCH := torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
CORES ?= all

.PHONY: run report test install install-test dry-run lint rulegraph clean verdict-stability variance-study

$(BIN)/python:
	$(shell command -v $(PYTHON) >/dev/null 2>&1 && echo $(PYTHON) || echo python3) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Torch first, from TORCH_INDEX; where that index cannot be reached, from PyPI, saying so.
$(VENV)/.torch: | $(BIN)/python
	@if [ -n "$(TORCH_INDEX)" ] && $(BIN)/python -c "import urllib.request as u; u.urlopen('$(TORCH_INDEX)/torch/', timeout=15)" 2>/dev/null; then \
		echo "torch: $(TORCH) from $(TORCH_INDEX)"; \
		$(BIN)/pip install --quiet --index-url $(TORCH_INDEX) $(TORCH); \
	else \
		echo "torch: $(if $(TORCH_INDEX),$(TORCH_INDEX) cannot be reached; ,)$(TORCH) from PyPI (on Linux x86-64 that is the CUDA build)"; \
		$(BIN)/pip install --quiet $(TORCH); \
	fi
	touch $@

# The package next; the torch installed above satisfies its pin, so nothing replaces it.
$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install --quiet $(TORCH) -e .
	touch $@

# One resolver run for the package and its test extras (a fresh clone's `make test` installs once).
# roc-validator (the crate test's validator) pins rich<14, which import-linter's rich>=14.2 rules
# out: its dependencies come with the crate-check extra, itself without its pins.
$(VENV)/.installed-test: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install --quiet $(TORCH) -e ".[test,crate-check]"
	$(BIN)/pip install --quiet --no-deps roc-validator==0.13.0
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/snakemake --cores $(CORES)
	@$(BIN)/python -m guiding.report.summary

# The Snakemake report of the study that `make run` ran: results/report.html, one self-contained
# file (tables and figures embedded) that opens on the study's description (report/workflow.rst).
report: install
	$(BIN)/snakemake --report results/report.html

# The default twice, on one machine: as `make run` does (results/), then, under a second CPU
# numerics, what the findings table needs (runs/second-numerics/), and the two findings tables
# compared verdict by verdict. The default second numerics, PyTorch's non-vectorised kernels,
# rounds differently from AVX2 and AVX-512 ones; any other SECOND_NUMERICS will do if it changes
# the stage-1 weights (the comparison says whether).
SECOND_NUMERICS ?= ATEN_CPU_CAPABILITY=default
verdict-stability: install
	$(BIN)/snakemake --cores $(CORES)
	env $(SECOND_NUMERICS) $(BIN)/snakemake --cores $(CORES) results/tables/findings.csv --config workdir=runs/second-numerics
	$(BIN)/guiding verdict-stability results runs/second-numerics/results

# The variance study of one candidate (docs/variance-study.md): its calibration runs at SEEDS, the
# stage-1 seeds CROSS_SEEDS crossed with a second stage-2 draw, the rows into bench/variance_study.csv.
#   make variance-study CANDIDATE=stage2-12ep OVERLAY=bench/variance_candidates/stage2-12ep.yaml
CANDIDATE ?= baseline
OVERLAY ?=
SEEDS ?= 42 1 7 2 3
CROSS_SEEDS ?= 42 1 7
variance-study: install
	$(BIN)/python bench/variance_study.py $(CANDIDATE) $(if $(OVERLAY),--overlay $(OVERLAY),) --seeds $(SEEDS) \
		--cross-seeds $(CROSS_SEEDS) --offsets 1000 --cores $(CORES)

dry-run: install
	$(BIN)/snakemake -n

# One process per core, whole modules at a time (their fixtures run a study once per module).
test: install-test
	$(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder --durations=15

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

# SLURM (profiles/slurm; needs snakemake-executor-plugin-slurm, in the test extras).
# A single-node SLURM on 127.0.0.1 to try it on (root, Debian/Ubuntu; installs the packages):
.PHONY: slurm-up slurm-down slurm-dry-run slurm-run test-slurm
slurm-up:
	cluster/slurm-up.sh

slurm-down:
	cluster/slurm-down.sh

# Plan the default study with the SLURM profile (submits nothing).
slurm-dry-run: install-test
	$(BIN)/snakemake -n --profile profiles/slurm --workflow-profile none

# Run the default study on SLURM: one sbatch job per non-local job.
slurm-run: install-test
	$(BIN)/snakemake --profile profiles/slurm --workflow-profile none
	@$(BIN)/python -m guiding.report.summary

# Only the cluster tests (brings a single-node SLURM up and down again).
test-slurm: install-test
	$(BIN)/python -m pytest -q tests/test_slurm.py
