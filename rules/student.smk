# The student: base model, stage-1 SFT on easy tasks, stage-2 SFT on each supervision set.
# Training and generation jobs write a benchmark (wall time, peak memory) to results/benchmarks/.


rule build_student_base:
    input:
        expand("results/data/tasks/{split}.jsonl", split=["train_easy", "train_hard"]),
    output:
        directory("results/models/base"),
    log:
        "results/logs/build_student_base.log",
    conda:
        "../envs/training.yaml"
    params:
        student=canonical(config["student"]),
    script:
        "../scripts/build_student_base.py"


rule train_stage1:
    input:
        model="results/models/base",
        data="results/data/tasks/train_easy.jsonl",
    output:
        directory("results/models/stage1"),
    log:
        "results/logs/train/stage1.log",
    benchmark:
        "results/benchmarks/train/stage1.tsv"
    conda:
        "../envs/training.yaml"
    threads: 2
    params:
        recipe=canonical(config["training"]["stage1"]),
        scratch="results/checkpoints/stage1",
    script:
        "../scripts/train.py"


rule train_stage2:
    input:
        model="results/models/stage1",
        data=stage2_set,
    output:
        directory("results/models/stage2/{run}"),
    log:
        "results/logs/train/stage2-{run}.log",
    benchmark:
        "results/benchmarks/train/stage2-{run}.tsv"
    priority: stage2_priority
    conda:
        "../envs/training.yaml"
    threads: 1
    params:
        recipe=stage2_recipe,
        scratch="results/checkpoints/stage2/{run}",
    script:
        "../scripts/train.py"
