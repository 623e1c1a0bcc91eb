# rule sample_solutions (rules/teachers.smk)
from guiding.core.steps import run_step
from guiding.teachers.steps import sample_solutions

run_step(snakemake, sample_solutions)  # noqa: F821 (snakemake is given by the script directive)
