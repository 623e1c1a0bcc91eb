# Tasks: every split from the task source, the hard tasks' decomposition into subtasks, and the
# subtask filters.


rule generate_tasks:
    input:
        unpack(P.task_source_files),
    output:
        **{split: A.fill(A.TASKS, split=split) for split in A.SPLITS},
        report=A.TASK_SOURCE_REPORT,
    log:
        "results/logs/generate_tasks.log",
    localrule: on_head_node("task_source")
    conda:
        "../envs/data.yaml"
    params:
        backend=BACKENDS["task_source"],
        settings=P.task_source_settings(),
    script:
        "../scripts/generate_tasks.py"


rule decompose_tasks:
    input:
        hard_tasks=A.fill(A.TASKS, split="train_hard"),
    output:
        requests=A.fill(A.LLM_REQUESTS, job="decompose_tasks"),
        decomposed=A.DECOMPOSED_SUBTASKS,
        report=A.DECOMPOSE_REPORT,
    log:
        "results/logs/decompose_tasks.log",
    localrule: on_head_node("decomposer")
    conda:
        "../envs/data.yaml"
    params:
        backend=BACKENDS["decomposer"],
        decomposition=P.decomposition_settings(),
    script:
        "../scripts/decompose_tasks.py"


rule filter_subtasks:
    input:
        decomposed=A.DECOMPOSED_SUBTASKS,
        hard_tasks=A.fill(A.TASKS, split="train_hard"),
    output:
        requests=A.fill(A.LLM_REQUESTS, job="filter_subtasks"),
        kept=A.FILTERED_SUBTASKS,
        report=A.SUBTASK_FILTER_REPORT,
    log:
        "results/logs/filter_subtasks.log",
    localrule: on_head_node("subtask_filter")
    conda:
        "../envs/data.yaml"
    params:
        backend=BACKENDS["subtask_filter"],
        subtask_filter=P.subtask_filter_settings(),
    script:
        "../scripts/filter_subtasks.py"
