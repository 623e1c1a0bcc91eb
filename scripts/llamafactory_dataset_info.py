# rule llamafactory_dataset_info (rules/supervision.smk)
from guiding.core.steps import run_step
from guiding.supervision.steps import llamafactory_dataset_info

run_step(snakemake, llamafactory_dataset_info)  # noqa: F821 (snakemake is given by the script directive)
