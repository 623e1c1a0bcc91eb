from guiding import pipeline
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
pipeline.paraphrased_set(snakemake.input[0], snakemake.output[0], f"para-{snakemake.wildcards.base}", snakemake.params.seed)
