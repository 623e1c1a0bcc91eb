# rule paraphrase_set (rules/supervision.smk)
from guiding.core.steps import run_step
from guiding.supervision.steps import paraphrase_set

run_step(snakemake, paraphrase_set)  # noqa: F821 (snakemake is given by the script directive)
