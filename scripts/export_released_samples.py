# rule export_released_samples (rules/judging.smk)
from guiding.core.steps import run_step
from guiding.judging.steps import export_released_samples

run_step(snakemake, export_released_samples)  # noqa: F821 (snakemake is given by the script directive)
