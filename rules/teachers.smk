# Teachers at work: k sampled solutions per task, per teacher and kind (hard tasks, subtasks).


rule sample_solutions:
    input:
        tasks=tasks_of_kind,
    output:
        requests=A.fill(A.LLM_REQUESTS, job="sample_solutions-{teacher}-{kind}"),
        samples=A.SAMPLES,
        report=A.SAMPLE_REPORT,
    log:
        "results/logs/sample_solutions/{teacher}_{kind}.log",
    localrule: on_head_node("teacher")
    conda:
        "../envs/data.yaml"
    params:
        backend=BACKENDS["teacher"],
        teacher_config=P.teacher_settings,
        sampling=canonical(config["sampling"]),
    script:
        "../scripts/sample_solutions.py"
