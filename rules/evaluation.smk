# Evaluation: the benchmarks as artifacts (some converted by an LLM first: multiple choice
# turned open, Chinese translated), each model's predictions on them, graded by the answer
# module in each benchmark's answer form.
from guiding.envs import job_env  # a GPU job's env under --use-conda (envs/gpu-*.yaml)


rule convert_benchmark:
    input:
        unpack(P.conversion_source),
    output:
        requests=A.fill(A.LLM_REQUESTS, job="convert_benchmark-{bench}"),
        converted=A.CONVERTED_BENCHMARK,
        report=A.CONVERSION_REPORT,
    log:
        "results/logs/convert_benchmark/{bench}.log",
    localrule: on_head_node(A.CONVERTER)
    conda:
        "../envs/evaluation.yaml"
    params:
        spec=P.conversion_spec,
        llm=P.llm_role(A.CONVERTER) if CONVERTED else None,
    script:
        "../scripts/convert_benchmark.py"


rule prepare_benchmark:
    input:
        unpack(P.benchmark_source),
    output:
        benchmark=A.BENCHMARK,
        report=A.BENCHMARK_REPORT,
    log:
        "results/logs/prepare_benchmark/{bench}.log",
    localrule: True
    conda:
        "../envs/evaluation.yaml"
    params:
        spec=P.benchmark_spec,
    script:
        "../scripts/prepare_benchmark.py"


# One job per model answers every benchmark: the model (a vLLM engine in paper mode) loads once,
# and the embedded default's many small models pay the start-up of a job once, not per benchmark.
# Adding a benchmark therefore answers it with every model again, the others included.
rule generate_predictions:
    input:
        model=model_dir,
        tasks=expand(A.BENCHMARK, bench=BENCHMARKS),
    output:
        predictions=expand(A.PREDICTIONS, bench=BENCHMARKS, allow_missing=True),
    log:
        "results/logs/eval/{model}/seed{seed}/generate.log",
    benchmark:
        "results/benchmarks/eval/{model}/seed{seed}/generate.tsv"
    conda:
        job_env("evaluation", config["evaluation"]["gpus"])
    threads: 1
    resources:
        gpu=config["evaluation"]["gpus"],
    params:
        backend=BACKENDS["generator"],
        # Batch size stays: batches pad differently, which can change greedy outputs in float.
        generation=P.generation_settings(),
    script:
        "../scripts/generate_predictions.py"


rule grade_predictions:
    input:
        tasks=expand(A.BENCHMARK, bench=BENCHMARKS),
        predictions=expand(A.PREDICTIONS, bench=BENCHMARKS, allow_missing=True),
    output:
        graded=expand(A.GRADED, bench=BENCHMARKS, allow_missing=True),
        grading_report=expand(A.GRADING_REPORT, bench=BENCHMARKS, allow_missing=True),
    log:
        "results/logs/eval/{model}/seed{seed}/grade.log",
    localrule: True
    conda:
        "../envs/evaluation.yaml"
    script:
        "../scripts/grade_predictions.py"
