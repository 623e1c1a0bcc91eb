# rule filter_subtasks (rules/tasks.smk)
from guiding.core.steps import run_step
from guiding.tasks.steps import filter_subtasks

run_step(snakemake, filter_subtasks)  # noqa: F821 (snakemake is given by the script directive)
