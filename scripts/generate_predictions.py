from guiding.evaluation import generate_solutions
from guiding.io import read_jsonl, write_jsonl
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
tasks = read_jsonl(snakemake.input.tasks)
evaluation = snakemake.params.evaluation
outputs = generate_solutions(
    snakemake.input.model,
    [t["problem"] for t in tasks],
    max_new_tokens=evaluation["max_new_tokens"],
    batch_size=evaluation["batch_size"],
    threads=snakemake.threads,
)
write_jsonl(snakemake.output[0], ({"task_id": t["id"], "output": o} for t, o in zip(tasks, outputs)))
