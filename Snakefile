# What makes good supervision for hard reasoning tasks? (He, Yin, Peng; NAACL 2025), as a workflow.
#
#   snakemake --cores all                 # the embedded default (config/config.yaml)
#   snakemake --cores all --use-conda     # the same, each rule in its own conda env
#   snakemake --configfile config/paper.yaml ...   # paper mode (see the README)
#
# The rule files follow the DAG; each has a subpackage of the same name in src/guiding/.

import os
import sys

# The study's logic lives in the guiding package under src/; scripts import it from there,
# also inside per-rule conda envs (which install only third-party packages).
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)
os.environ.update(PYTHONPATH=SRC)  # set, not read: no envvars assertion needed

from guiding.config import names_whole_study  # noqa: E402

# A config file given on the command line that names its `mode` is a whole study and replaces
# the embedded default (no key of the default leaks into it); one without `mode` is an overlay
# on the default (e.g. config/long_stage2.yaml). The default is found from any --directory.
if not names_whole_study(workflow.overwrite_configfiles):

    configfile: os.path.join(workflow.basedir, "config", "config.yaml")


# A variant study writes under its own directory, never over the default's results/.
if config.get("workdir"):

    workdir: config["workdir"]


# The report's first page (`snakemake --report results/report.html`, `make report`).
report: "report/workflow.rst"


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
