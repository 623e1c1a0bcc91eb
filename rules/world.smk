# The generated world: source tasks and their decomposition into subtasks.


rule generate_tasks:
    output:
        expand("results/data/tasks/{split}.jsonl", split=SPLITS),
    log:
        "results/logs/generate_tasks.log",
    conda:
        "../envs/data.yaml"
    params:
        world=canonical(config["world"]),
    script:
        "../scripts/generate_tasks.py"


rule decompose_tasks:
    input:
        "results/data/tasks/train_hard.jsonl",
    output:
        "results/data/subtasks/decomposed.jsonl",
    log:
        "results/logs/decompose_tasks.log",
    conda:
        "../envs/data.yaml"
    params:
        decomposition=canonical(config["decomposition"]),
        shuffle=config["world"]["shuffle_definitions"],
    script:
        "../scripts/decompose_tasks.py"


rule filter_subtasks:
    input:
        subtasks="results/data/subtasks/decomposed.jsonl",
        tasks="results/data/tasks/train_hard.jsonl",
    output:
        kept="results/data/subtasks/filtered.jsonl",
        report="results/data/subtasks/filter_report.json",
    log:
        "results/logs/filter_subtasks.log",
    conda:
        "../envs/data.yaml"
    params:
        decomposition=canonical(config["decomposition"]),
    script:
        "../scripts/filter_subtasks.py"
