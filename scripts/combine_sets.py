from guiding import pipeline
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
parts = {part: snakemake.input[part] for part in snakemake.params.parts}
pipeline.combined_set(parts, snakemake.output[0], f"combo-{snakemake.wildcards.name}")
