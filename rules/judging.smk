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
        second_opinions=second_opinions(),
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
        rewriter=rewriter_settings,
    script:
        "../scripts/make_pairs.py"
