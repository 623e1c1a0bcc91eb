# The student: base model, stage-1 SFT on easy tasks, stage-2 SFT on each supervision set.


rule build_student_base:
    input:
        expand("results/data/tasks/{split}.jsonl", split=["train_easy", "train_hard"]),
    output:
        directory("results/models/base"),
    params:
        student=canonical(config["student"]),
    log:
        "results/logs/build_student_base.log",
    conda:
        "../envs/training.yaml"
    script:
        "../scripts/build_student_base.py"


rule train_stage1:
    input:
        model="results/models/base",
        data="results/data/tasks/train_easy.jsonl",
    output:
        directory("results/models/stage1"),
    params:
        recipe=canonical(config["training"]["stage1"]),
        scratch="results/checkpoints/stage1",
    threads: 2
    log:
        "results/logs/train/stage1.log",
    conda:
        "../envs/training.yaml"
    script:
        "../scripts/train.py"


rule train_stage2:
    input:
        model="results/models/stage1",
        data=stage2_set,
    output:
        directory("results/models/stage2/{run}"),
    params:
        recipe=stage2_recipe,
        scratch="results/checkpoints/stage2/{run}",
    threads: 1
    log:
        "results/logs/train/stage2-{run}.log",
    conda:
        "../envs/training.yaml"
    script:
        "../scripts/train.py"
