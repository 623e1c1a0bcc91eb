from guiding import pipeline
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
pipeline.generate_tasks(list(snakemake.output), snakemake.params.world)
