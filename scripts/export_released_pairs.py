# rule export_released_pairs (rules/judging.smk)
from guiding.core.steps import run_step
from guiding.judging.steps import export_released_pairs

run_step(snakemake, export_released_pairs)  # noqa: F821 (snakemake is given by the script directive)
