# rule set_statistics (rules/supervision.smk)
from guiding.core.steps import run_step
from guiding.supervision.steps import set_statistics

run_step(snakemake, set_statistics)  # noqa: F821 (snakemake is given by the script directive)
