# Evaluation: greedy generation on held-out tasks, then grading by the boxed answer.


rule generate_predictions:
    input:
        model=model_dir,
        tasks="results/data/tasks/{bench}.jsonl",
    output:
        "results/eval/{model}/{bench}.predictions.jsonl",
    log:
        "results/logs/eval/{model}-{bench}.generate.log",
    benchmark:
        "results/benchmarks/eval/{model}-{bench}.generate.tsv"
    conda:
        "../envs/evaluation.yaml"
    threads: 1
    params:
        evaluation=canonical(config["evaluation"]),
    script:
        "../scripts/generate_predictions.py"


rule grade_predictions:
    input:
        tasks="results/data/tasks/{bench}.jsonl",
        predictions="results/eval/{model}/{bench}.predictions.jsonl",
    output:
        "results/eval/{model}/{bench}.graded.jsonl",
    log:
        "results/logs/eval/{model}-{bench}.grade.log",
    conda:
        "../envs/evaluation.yaml"
    script:
        "../scripts/grade_predictions.py"
