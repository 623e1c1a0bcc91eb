# Reports: data tables (the sets and the teachers, as measured), the result tables and figures
# of the paper's three experiments, and the findings (the paper's claims with verdicts). Each
# table has a provenance sidecar that records the config sections it rests on, so those sections
# are its params.


rule data_sets_table:
    input:
        set_stats=set_stats_files(),
    output:
        **table_outputs("data_sets"),
    log:
        "results/logs/data_sets_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    params:
        config=P.config_subset(*DATA_SECTIONS),
    script:
        "../scripts/report_table.py"


rule teachers_table:
    input:
        judged=expand(A.JUDGED, teacher=TEACHERS, kind=A.KINDS),
        pair_stats=expand(A.PAIR_STATS, teacher=TEACHERS, kind=A.KINDS),
    output:
        **table_outputs("teachers"),
    log:
        "results/logs/teachers_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    params:
        config=P.config_subset(*TEACHER_SECTIONS),
        # The step-wise error rates' intervals: the evaluation's level and bootstrap.
        confidence=config["evaluation"]["confidence"],
        bootstrap=config["evaluation"]["bootstrap"],
    script:
        "../scripts/report_table.py"


rule judge_agreement_table:
    input:
        judged=expand(A.JUDGED, teacher=TEACHERS, kind=A.KINDS),
    output:
        **table_outputs("judge_agreement"),
    log:
        "results/logs/judge_agreement_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    params:
        config=P.config_subset(*TEACHER_SECTIONS),
    script:
        "../scripts/report_table.py"


rule result_tables:
    input:
        graded=graded_files(),
        set_stats=set_stats_files(),
    output:
        **{
            f"{table}_{ext.replace('.', '_')}": (
                report(
                    A.fill(A.TABLE, table=table, ext=ext),
                    caption=f"../report/{table}.rst",
                    category=layout.category(table),
                    subcategory=layout.subcategory(table, layout.TABLE),
                    labels=layout.labels(config, table, layout.TABLE),
                )
                if ext == "csv"
                else A.fill(A.TABLE, table=table, ext=ext)
            )
            for table in A.EXPERIMENTS
            for ext in A.TABLE_FORMATS
        },
        **{
            f"{figure}_png": report(
                A.fill(A.FIGURE, figure=figure),
                caption=f"../report/{figure}_figure.rst",
                category=layout.category(figure),
                subcategory=layout.subcategory(figure, layout.FIGURE),
                labels=layout.labels(config, figure, layout.FIGURE),
            )
            for figure in A.EXPERIMENTS
        },
    log:
        "results/logs/result_tables.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    params:
        config=P.config_subset(*RESULT_SECTIONS),
        runs=canonical(RUNS),
        benchmarks=BENCHMARKS,  # the config's order (P.config_subset sorts mapping keys)
    script:
        "../scripts/report_table.py"


rule findings_table:
    input:
        graded=findings_graded_files(),
        set_stats=findings_set_stats(),
    output:
        **table_outputs(A.FINDINGS),
    log:
        "results/logs/findings_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    params:
        config=P.config_subset(*RESULT_SECTIONS),
        benchmarks=BENCHMARKS,
    script:
        "../scripts/report_table.py"


rule costs_table:
    input:
        requests=llm_request_manifests(),
    output:
        **table_outputs(A.COST_TABLE),
    log:
        "results/logs/costs_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    resources:
        # Where the rows are, not what they say: a resource, so that moving the cache reruns nothing.
        response_cache=P.response_cache_path(),
    params:
        prices=canonical(config["cost"].get("prices", {})),
        chars_per_token=config["cost"]["estimate"]["chars_per_token"],
    script:
        "../scripts/report_table.py"
