# Teachers at work: sampled solutions, their judgement, and one correct/incorrect pair per task.


rule sample_solutions:
    input:
        tasks_of_kind,
    output:
        "results/data/samples/{teacher}/{kind}.jsonl",
    log:
        "results/logs/sample_solutions/{teacher}_{kind}.log",
    conda:
        "../envs/data.yaml"
    params:
        teacher=lambda wc: canonical(config["teachers"][wc.teacher]),
        sampling=canonical(config["sampling"]),
    script:
        "../scripts/sample_solutions.py"


rule judge_solutions:
    input:
        tasks=tasks_of_kind,
        samples="results/data/samples/{teacher}/{kind}.jsonl",
    output:
        "results/data/judged/{teacher}/{kind}.jsonl",
    log:
        "results/logs/judge_solutions/{teacher}_{kind}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/judge_solutions.py"


rule make_pairs:
    input:
        tasks=tasks_of_kind,
        judged="results/data/judged/{teacher}/{kind}.jsonl",
    output:
        pairs="results/data/pairs/{teacher}/{kind}.jsonl",
        stats="results/data/pairs/{teacher}/{kind}.stats.json",
    log:
        "results/logs/make_pairs/{teacher}_{kind}.log",
    conda:
        "../envs/data.yaml"
    params:
        seed=config["sampling"]["seed"],
    script:
        "../scripts/make_pairs.py"
