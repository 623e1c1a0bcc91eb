# The student: base model, then per training seed of replicates.seeds (a replicate) a stage-1
# SFT on easy tasks and, from it, a stage-2 SFT on each supervision set.
# Training and generation jobs write a benchmark (wall time, peak memory) to results/benchmarks/.
from guiding.envs import job_env  # a GPU job's env under --use-conda (envs/gpu-*.yaml)


rule build_student_base:
    input:
        tasks=expand(A.TASKS, split=["train_easy", "train_hard"]),
    output:
        base_model=directory(A.BASE_MODEL),
    log:
        "results/logs/build_student_base.log",
    localrule: on_head_node("student_base")
    conda:
        "../envs/training.yaml"
    params:
        backend=BACKENDS["student_base"],
        student=canonical(config["student"]),
    script:
        "../scripts/build_student_base.py"


rule build_stage1_data:
    input:
        unpack(stage1_world_tasks),
        benchmarks=expand(A.BENCHMARK, bench=BENCHMARKS),
    output:
        data=A.STAGE1_DATA,
        report=A.STAGE1_DATA_REPORT,
    log:
        "results/logs/build_stage1_data.log",
    localrule: True
    conda:
        "../envs/training.yaml"
    params:
        stage1_data=canonical(config["training"]["stage1_data"]),
    script:
        "../scripts/build_stage1_data.py"


rule train_stage1:
    input:
        unpack(training_launcher),
        model=A.BASE_MODEL,
        data=A.STAGE1_DATA,
    output:
        trained=directory(A.STAGE1_MODEL),
    log:
        "results/logs/train/stage1/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/stage1/seed{seed}.tsv"
    priority: STAGE1_PRIORITY
    conda:
        job_env("training", config["training"]["gpus"])
    threads: 1
    resources:
        gpu=config["training"]["gpus"],
    params:
        recipe=P.stage1_recipe,
        checkpoints=A.STAGE1_CHECKPOINTS,
    script:
        "../scripts/train_stage1.py"


rule train_stage2:
    input:
        unpack(training_launcher),
        model=A.STAGE1_MODEL,
        data=stage2_set,
    output:
        trained=directory(A.STAGE2_MODEL),
    log:
        "results/logs/train/stage2-{run}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/stage2-{run}/seed{seed}.tsv"
    priority: stage2_priority
    conda:
        job_env("training", config["training"]["gpus"])
    threads: 1
    resources:
        gpu=config["training"]["gpus"],
    params:
        recipe=P.stage2_recipe,
        checkpoints=A.STAGE2_CHECKPOINTS,
    script:
        "../scripts/train_stage2.py"
