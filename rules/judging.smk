# Judging: every sample's final answer against the reference and each of its steps; then one
# correct and one incorrect solution per task.


rule judge_solutions:
    input:
        tasks=tasks_of_kind,
        samples=A.SAMPLES,
    output:
        requests=A.fill(A.LLM_REQUESTS, job="judge_solutions-{teacher}-{kind}"),
        judged=A.JUDGED,
    log:
        "results/logs/judge_solutions/{teacher}_{kind}.log",
    localrule: on_head_node("step_judge", "final_judge", "step_judge_check")
    conda:
        "../envs/data.yaml"
    params:
        step_judge=BACKENDS["step_judge"],
        second_opinions=P.second_opinions(),
    script:
        "../scripts/judge_solutions.py"


rule make_pairs:
    input:
        tasks=tasks_of_kind,
        judged=A.JUDGED,
    output:
        requests=A.fill(A.LLM_REQUESTS, job="make_pairs-{teacher}-{kind}"),
        pairs=A.PAIRS,
        pair_stats=A.PAIR_STATS,
    log:
        "results/logs/make_pairs/{teacher}_{kind}.log",
    localrule: on_head_node("rewriter")
    conda:
        "../envs/data.yaml"
    params:
        seed=config["sampling"]["seed"],
        # Judges the reference's steps when it stands in for a correct sample.
        step_judge=BACKENDS["step_judge"],
        rewriter=P.rewriter_settings,
    script:
        "../scripts/make_pairs.py"


# The authors' released data instead of the pipeline's own teachers and judges
# (backends.pairs_source released, config released; docs/released-data.md): one job writes the
# pair records, samples and judged samples that the rules above would, so nothing asks a model.
if RELEASED:

    ruleorder: import_released > sample_solutions
    ruleorder: import_released > judge_solutions
    ruleorder: import_released > make_pairs

    rule import_released:
        input:
            local_files=P.released_local_files(),
        output:
            **P.released_outputs(),
        log:
            "results/logs/import_released.log",
        localrule: True
        conda:
            "../envs/data.yaml"
        threads: 1
        params:
            released=canonical(config["released"]),
            seed=config["sampling"]["seed"],
        script:
            "../scripts/import_released.py"


# A teacher's pairs and judged hard-task samples in the authors' layout, to share data built here
# as they shared theirs (targets on demand, not part of `all`).
rule export_released_pairs:
    input:
        hard_pairs=A.fill(A.PAIRS, teacher="{teacher}", kind="hard"),
        subtask_pairs=A.fill(A.PAIRS, teacher="{teacher}", kind="subtask"),
    output:
        exported=A.RELEASED_EXPORT_PAIRS,
    log:
        "results/logs/export_released/pairs-{teacher}.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/export_released_pairs.py"


rule export_released_samples:
    input:
        tasks=A.fill(A.TASKS, split="train_hard"),
        judged=A.fill(A.JUDGED, teacher="{teacher}", kind="hard"),
    output:
        exported=A.RELEASED_EXPORT_SAMPLES,
    log:
        "results/logs/export_released/samples-{teacher}.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/export_released_samples.py"
