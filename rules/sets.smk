# Supervision sets: one file per setting, built by one set builder.


rule build_error_rate_set:
    input:
        unpack(error_rate_set_inputs),
    output:
        "results/sets/{kind}-{teacher}-er{error_rate}.jsonl",
    log:
        "results/logs/build_set/{kind}-{teacher}-er{error_rate}.log",
    conda:
        "../envs/data.yaml"
    params:
        hard_size=config["sets"]["hard_size"],
        subtask_size=config["sets"]["subtask_size"],
        seed=config["sets"]["seed"],
    script:
        "../scripts/build_error_rate_set.py"


rule paraphrase_set:
    input:
        "results/sets/{base}.jsonl",
    output:
        "results/sets/para-{base}.jsonl",
    log:
        "results/logs/build_set/para-{base}.log",
    conda:
        "../envs/data.yaml"
    params:
        seed=config["sets"]["seed"],
    script:
        "../scripts/paraphrase_set.py"


rule combine_sets:
    input:
        unpack(combination_parts),
    output:
        "results/sets/combo-{name}.jsonl",
    log:
        "results/logs/build_set/combo-{name}.log",
    conda:
        "../envs/data.yaml"
    params:
        parts=lambda wc: SETS[f"combo-{wc.name}"]["parts"],
    script:
        "../scripts/combine_sets.py"
