# Statistics of the built data: per set and per teacher, with provenance.


rule set_statistics:
    input:
        "results/sets/{name}.jsonl",
    output:
        "results/data/stats/{name}.json",
    log:
        "results/logs/set_statistics/{name}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../scripts/set_statistics.py"


rule data_sets_table:
    input:
        expand("results/data/stats/{name}.json", name=sorted(SETS)),
    output:
        csv=report(
            "results/tables/data_sets.csv",
            caption="../report/data_sets.rst",
            category="Data",
        ),
        md="results/tables/data_sets.md",
        provenance="results/tables/data_sets.provenance.json",
    log:
        "results/logs/data_sets_table.log",
    conda:
        "../envs/report.yaml"
    params:
        config=config_subset(*DATA_SECTIONS),
    script:
        "../scripts/data_sets_table.py"


rule teachers_table:
    input:
        judged=expand(
            "results/data/judged/{teacher}/{kind}.jsonl", teacher=TEACHERS, kind=KINDS
        ),
        pair_stats=expand(
            "results/data/pairs/{teacher}/{kind}.stats.json",
            teacher=TEACHERS,
            kind=KINDS,
        ),
    output:
        csv=report(
            "results/tables/teachers.csv",
            caption="../report/teachers.rst",
            category="Data",
        ),
        md="results/tables/teachers.md",
        provenance="results/tables/teachers.provenance.json",
    log:
        "results/logs/teachers_table.log",
    conda:
        "../envs/report.yaml"
    params:
        config=config_subset("mode", "world", "decomposition", "teachers", "sampling"),
    script:
        "../scripts/teachers_table.py"
