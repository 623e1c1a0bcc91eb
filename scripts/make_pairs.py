# rule make_pairs (rules/judging.smk)
from guiding.core.steps import run_step
from guiding.judging.steps import make_pairs

run_step(snakemake, make_pairs)  # noqa: F821 (snakemake is given by the script directive)
