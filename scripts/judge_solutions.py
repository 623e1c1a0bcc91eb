# rule judge_solutions (rules/judging.smk)
from guiding.core.steps import run_step
from guiding.judging.steps import judge_solutions

run_step(snakemake, judge_solutions)  # noqa: F821 (snakemake is given by the script directive)
