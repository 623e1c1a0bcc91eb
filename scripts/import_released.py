# rule import_released (rules/judging.smk)
from guiding.core.steps import run_step
from guiding.judging.steps import import_released

run_step(snakemake, import_released)  # noqa: F821 (snakemake is given by the script directive)
