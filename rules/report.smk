# Result tables and figures: the paper's three experiments in miniature, with provenance.


rule result_tables:
    input:
        graded=expand(
            "results/eval/{model}/{bench}.graded.jsonl", model=MODELS, bench=BENCHMARKS
        ),
        set_stats=expand("results/data/stats/{name}.json", name=sorted(SETS)),
    output:
        **{
            f"{table}_{ext.replace('.', '_')}": f"results/tables/{table}.{ext}"
            for table in EXPERIMENTS
            for ext in ("csv", "md", "provenance.json")
        },
        **{f"{figure}_png": f"results/figures/{figure}.png" for figure in EXPERIMENTS},
    log:
        "results/logs/result_tables.log",
    conda:
        "../envs/report.yaml"
    params:
        config=canonical(config),
        runs=canonical(RUNS),
    script:
        "../scripts/result_tables.py"
