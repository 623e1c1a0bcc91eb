# Supervision sets: one file per setting, built by one set builder, and their statistics.


rule build_error_rate_set:
    input:
        unpack(error_rate_set_inputs),
    output:
        supervision_set="results/sets/{kind}-{teacher}-er{error_rate}.jsonl",
    log:
        "results/logs/build_set/{kind}-{teacher}-er{error_rate}.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    params:
        sizes=P.error_rate_set_sizes,
        seed=config["sets"]["seed"],
    script:
        "../scripts/build_error_rate_set.py"


rule paraphrase_set:
    input:
        unpack(paraphrase_set_inputs),
    output:
        requests=A.fill(A.LLM_REQUESTS, job="paraphrase_set-{base}"),
        paraphrased=A.fill(A.SET, name=A.paraphrase_name("{base}")),
    log:
        "results/logs/build_set/para-{base}.log",
    localrule: on_head_node("paraphraser")
    conda:
        "../envs/data.yaml"
    params:
        backend=BACKENDS["paraphraser"],
        seed=config["sets"]["seed"],
        settings=P.paraphraser_settings(),
    script:
        "../scripts/paraphrase_set.py"


rule combine_sets:
    input:
        parts=combination_parts,
    output:
        combined=A.fill(A.SET, name=A.combination_name("{name}")),
    log:
        "results/logs/build_set/combo-{name}.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/combine_sets.py"


rule set_statistics:
    input:
        supervision_set=A.SET,
    output:
        stats=A.SET_STATS,
    log:
        "results/logs/set_statistics/{name}.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/set_statistics.py"


rule export_set:
    input:
        supervision_set=A.SET,
    output:
        trl=A.EXPORT_TRL,
        llamafactory=A.EXPORT_LLAMAFACTORY,
    log:
        "results/logs/export_set/{name}.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/export_set.py"


rule llamafactory_dataset_info:
    input:
        alpaca=expand(A.EXPORT_LLAMAFACTORY, name=sorted(SETS)),
    output:
        dataset_info=A.EXPORT_LLAMAFACTORY_INFO,
    log:
        "results/logs/llamafactory_dataset_info.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/llamafactory_dataset_info.py"
