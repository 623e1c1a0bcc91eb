# Reports: data tables (the sets and the teachers, as measured), the result tables and figures
# of the paper's three experiments, and the findings (the paper's claims with verdicts). Each
# table has a provenance sidecar that records the config sections it rests on, so those sections
# are its params.

from guiding.report import layout  # the report's categories, subcategories and labels


rule data_sets_table:
    input:
        set_stats=set_stats_files(),
    output:
        csv=report(
            A.fill(A.TABLE, table="data_sets", ext="csv"),
            caption="../report/data_sets.rst",
            category=layout.category("data_sets"),
            labels=layout.labels(config, "data_sets"),
        ),
        md=A.fill(A.TABLE, table="data_sets", ext="md"),
        provenance_json=A.fill(A.TABLE, table="data_sets", ext="provenance.json"),
    log:
        "results/logs/data_sets_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    params:
        config=config_subset(*DATA_SECTIONS),
    script:
        "../scripts/data_sets_table.py"


rule teachers_table:
    input:
        judged=expand(A.JUDGED, teacher=TEACHERS, kind=A.KINDS),
        pair_stats=expand(A.PAIR_STATS, teacher=TEACHERS, kind=A.KINDS),
    output:
        csv=report(
            A.fill(A.TABLE, table="teachers", ext="csv"),
            caption="../report/teachers.rst",
            category=layout.category("teachers"),
            labels=layout.labels(config, "teachers"),
        ),
        md=A.fill(A.TABLE, table="teachers", ext="md"),
        provenance_json=A.fill(A.TABLE, table="teachers", ext="provenance.json"),
    log:
        "results/logs/teachers_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    params:
        config=config_subset(*TEACHER_SECTIONS),
        # The step-wise error rates' intervals: the evaluation's level and bootstrap.
        confidence=config["evaluation"]["confidence"],
        bootstrap=config["evaluation"]["bootstrap"],
    script:
        "../scripts/teachers_table.py"


rule judge_agreement_table:
    input:
        judged=expand(A.JUDGED, teacher=TEACHERS, kind=A.KINDS),
    output:
        csv=report(
            A.fill(A.TABLE, table="judge_agreement", ext="csv"),
            caption="../report/judge_agreement.rst",
            category=layout.category("judge_agreement"),
            labels=layout.labels(config, "judge_agreement"),
        ),
        md=A.fill(A.TABLE, table="judge_agreement", ext="md"),
        provenance_json=A.fill(A.TABLE, table="judge_agreement", ext="provenance.json"),
    log:
        "results/logs/judge_agreement_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    params:
        config=config_subset(*TEACHER_SECTIONS),
    script:
        "../scripts/judge_agreement_table.py"


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
        config=config_subset(*RESULT_SECTIONS),
        runs=canonical(RUNS),
        benchmarks=BENCHMARKS,  # the config's order (config_subset sorts mapping keys)
    script:
        "../scripts/result_tables.py"


rule findings_table:
    input:
        graded=findings_graded_files(),
        set_stats=findings_set_stats(),
    output:
        csv=report(
            A.fill(A.TABLE, table=A.FINDINGS, ext="csv"),
            caption="../report/findings.rst",
            category=layout.category(A.FINDINGS),
            labels=layout.labels(config, A.FINDINGS),
        ),
        md=A.fill(A.TABLE, table=A.FINDINGS, ext="md"),
        provenance_json=A.fill(A.TABLE, table=A.FINDINGS, ext="provenance.json"),
    log:
        "results/logs/findings_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    params:
        config=config_subset(*RESULT_SECTIONS),
        benchmarks=BENCHMARKS,
    script:
        "../scripts/findings_table.py"


rule costs_table:
    input:
        requests=llm_request_manifests(),
    output:
        csv=report(
            A.fill(A.TABLE, table=A.COST_TABLE, ext="csv"),
            caption="../report/costs.rst",
            category=layout.category(A.COST_TABLE),
            labels=layout.labels(config, A.COST_TABLE),
        ),
        md=A.fill(A.TABLE, table=A.COST_TABLE, ext="md"),
        provenance_json=A.fill(A.TABLE, table=A.COST_TABLE, ext="provenance.json"),
    log:
        "results/logs/costs_table.log",
    localrule: True
    conda:
        "../envs/report.yaml"
    resources:
        # Where the rows are, not what they say: a resource, so that moving the cache reruns nothing.
        response_cache=response_cache_path(),
    params:
        prices=canonical(config["cost"].get("prices", {})),
        chars_per_token=config["cost"]["estimate"]["chars_per_token"],
    script:
        "../scripts/costs_table.py"
