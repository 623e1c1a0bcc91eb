# Evaluation: each model's predictions on the held-out benchmarks, graded by the answer module.


rule generate_predictions:
    input:
        model=model_dir,
        tasks=A.fill(A.TASKS, split="{bench}"),
    output:
        predictions=A.PREDICTIONS,
    log:
        "results/logs/eval/{model}-{bench}.generate.log",
    benchmark:
        "results/benchmarks/eval/{model}-{bench}.generate.tsv"
    conda:
        "../envs/evaluation.yaml"
    threads: 1
    resources:
        gpu=config["evaluation"]["gpus"],
    params:
        backend=BACKENDS["generator"],
        # Batch size stays: batches pad differently, which can change greedy outputs in float.
        generation=generation_settings(),
    script:
        "../scripts/generate_predictions.py"


rule grade_predictions:
    input:
        tasks=A.fill(A.TASKS, split="{bench}"),
        predictions=A.PREDICTIONS,
    output:
        graded=A.GRADED,
        grading_report=A.GRADING_REPORT,
    log:
        "results/logs/eval/{model}-{bench}.grade.log",
    localrule: True
    conda:
        "../envs/evaluation.yaml"
    script:
        "../scripts/grade_predictions.py"
