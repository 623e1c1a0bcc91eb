from guiding.io import read_jsonl
from guiding.logs import log_to_file
from guiding.training import train_sft

log_to_file(snakemake.log[0])
summary = train_sft(
    model_path=snakemake.input.model,
    items=read_jsonl(snakemake.input.data),
    out_dir=snakemake.output[0],
    recipe=snakemake.params.recipe,
    scratch_dir=snakemake.params.scratch,
    threads=snakemake.threads,
)
print({k: v for k, v in summary.items() if k != "log_history"})
