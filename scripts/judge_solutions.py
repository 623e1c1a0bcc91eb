from guiding import pipeline
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
pipeline.judge(snakemake.input.tasks, snakemake.input.samples, snakemake.output[0])
