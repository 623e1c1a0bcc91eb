# The generated world: source tasks and their decomposition into subtasks.


rule generate_tasks:
    output:
        expand("results/data/tasks/{split}.jsonl", split=SPLITS),
    params:
        world=canonical(config["world"]),
    log:
        "results/logs/generate_tasks.log",
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/generate_tasks.py"


rule decompose_tasks:
    input:
        "results/data/tasks/train_hard.jsonl",
    output:
        "results/data/subtasks/decomposed.jsonl",
    params:
        decomposition=canonical(config["decomposition"]),
    log:
        "results/logs/decompose_tasks.log",
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/decompose_tasks.py"


rule filter_subtasks:
    input:
        subtasks="results/data/subtasks/decomposed.jsonl",
        tasks="results/data/tasks/train_hard.jsonl",
    output:
        kept="results/data/subtasks/filtered.jsonl",
        report="results/data/subtasks/filter_report.json",
    params:
        decomposition=canonical(config["decomposition"]),
    log:
        "results/logs/filter_subtasks.log",
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/filter_subtasks.py"
