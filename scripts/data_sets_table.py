from guiding import reports
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
reports.data_sets_table(list(snakemake.input), snakemake.output, snakemake.params.config)
