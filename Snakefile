# What makes good supervision for hard reasoning tasks? (He, Yin, Peng; NAACL 2025), as a workflow.
#
#   snakemake --cores all                 # the embedded default (config/config.yaml)
#   snakemake --cores all --use-conda     # the same, each rule in its own conda env
#
# The rule files follow the DAG; each has a subpackage of the same name in src/guiding/.


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/tasks.smk"
include: "rules/teachers.smk"
include: "rules/judging.smk"
include: "rules/supervision.smk"
include: "rules/student.smk"
include: "rules/evaluation.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        data_tables(),
        cost_tables(),
        export_files(),
        result_files(),
