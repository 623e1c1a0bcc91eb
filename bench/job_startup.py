"""Benchmark: what a workflow job costs besides its work, per job type: start-up and wrap-up.

Every ``script:`` rule of the workflow runs in a new Python process: Snakemake writes the rule's
script behind a preamble (unpickle the job's ``snakemake`` object, import ``snakemake.logging`` and
``snakemake.iocontainers``) and runs it; the script is one ``run_step(snakemake, step)`` call, and
after the step ``run_step`` writes the job's lineage record (guiding.core.provenance.lineage). This benchmark
writes such job scripts itself, with Snakemake's own preamble generator
(``snakemake.script.PythonScript.generate_preamble``) and a ``snakemake`` object built from
Snakemake's own classes, for these job types of the embedded default:

    train_stage2           the stage-2 training (train_stage1 runs the same code on other data)
    generate_predictions   the students' answers (transformers backend)
    grade_predictions      grading by the answer module
    set_statistics         a light data job

The jobs run on small inputs made once per work directory (a tiny Llama built with the default's
``student`` section, a few world tasks, a supervision set of 64 items), with the default's
recipes and settings except for the work's length: stage-2 training stops after
``--train-steps`` steps and generation writes ``--new-tokens`` tokens. The start-up and the
wrap-up do not depend on the work's length.

Each job runs ``--runs`` times as ``python -X importtime`` (PYTHONPATH the measured checkout's
``src/``, as rules/common.smk sets it; the working directory the work directory, as the
workflow's). A small probe around the script marks when the step starts and ends, without
changing what is imported or in which order. Per job type it prints the median of:

    modules       modules imported by the whole process, and how many before the step
    imports_s     summed self time of every import (all of the process's import time)
    startup_s     process launch to the step's start: interpreter, preamble, script, run_step
    step_s        the step (its lazy imports included: step_imports_s of it)
    record_s      the step's end to run_step's return: the lineage record
    exit_s        run_step's return to the process's exit: interpreter teardown
    wall_s        the whole process
    cpu_s         its CPU time, user and system (less sensitive than wall times to a busy machine)

and, from the first run, the imports with the most cumulative time and the top-level packages
with the most import time of their own.

    .venv/bin/python bench/job_startup.py                        # this checkout, 3 runs per job
    .venv/bin/python bench/job_startup.py --repo /tmp/other      # another checkout's src/
    .venv/bin/python bench/job_startup.py --jobs train_stage2 --runs 1 --top 25
    .venv/bin/python bench/job_startup.py --commands             # the plain job commands, for an
                                                                 # outside timer (no probe)

``--commands`` prepares the jobs and prints, per job type, a shell command that runs the job
script exactly as Snakemake would (no probe, no -X importtime), to time whole processes with
another tool (``/usr/bin/time -v``, hyperfine). Two checkouts measured back to back each get their
own work directory (``--workdir``, default one per checkout under the system's temporary
directory) with the same inputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
JOBS = ("train_stage2", "generate_predictions", "grade_predictions", "set_statistics")
BENCHES = ("eval_hard", "eval_easy")
SET_NAME = "hard-main-er50"
SEED = 42

# The inputs, made by this checkout's own code (the same for every checkout measured).
FIXTURES = r"""
import json, sys
from pathlib import Path
import yaml
from guiding.core.io import write_jsonl
from guiding.evaluation.benchmarks import from_world
from guiding.student.embedded import build_student_base
from guiding.world.generate import generate_splits

work, config_file = Path(sys.argv[1]), sys.argv[2]
config = yaml.safe_load(open(config_file))
world = config["world"]
splits = generate_splits(world["seed"], {"train_easy": 64, "train_hard": 64, "eval_easy": 8, "eval_hard": 8},
                         world["easy_steps"], world["hard_steps"])
for split, tasks in splits.items():
    write_jsonl(work / f"results/data/tasks/{split}.jsonl", tasks)
student = config["student"]
texts = [f"{t['problem']}\n{t['solution']}" for t in splits["train_easy"] + splits["train_hard"]]
build_student_base(texts, work / "results/models/stage1/seed42", student["vocab_size"], student["architecture"],
                   student["seed"])
items = [{"id": f"SET/{t['id']}", "task_id": t["id"], "kind": "hard", "problem": t["problem"],
          "solution": t["solution"], "answer": t["answer"], "outcome_correct": i % 2 == 0,
          "step_verdicts": [True] * t["solution"].count("\n"), "solution_source": "sample"}
         for i, t in enumerate(splits["train_hard"])]
write_jsonl(work / "results/sets/SET.jsonl", items)
for bench in ("eval_hard", "eval_easy"):
    rows, _ = from_world(splits[bench])
    write_jsonl(work / f"results/data/benchmarks/{bench}.jsonl", rows)
    # Predictions to grade: each task's solution, its answer boxed.
    write_jsonl(work / f"results/eval/stage2-SET/seed42/{bench}.predictions.jsonl",
                [{"task_id": t["id"], "output": f"{t['solution']}\nThe answer is \\boxed{{{t['answer']}}}."}
                 for t in splits[bench]])
""".replace("SET", SET_NAME)

# Runs the job script (argv[1]) as Snakemake's python would, marking on stderr (fd 2, where
# -X importtime writes) when the script starts and when its step starts and ends. The marks come
# from wrapping guiding.core.steps.run_step the moment that module is first imported, so that
# nothing is imported earlier or in another order than in the job itself.
PROBE = r"""
import os, sys, time
def _mark(name):
    from resource import RUSAGE_CHILDREN, getrusage
    children = getrusage(RUSAGE_CHILDREN)  # the children it has reaped (git)
    cpu = time.process_time() + children.ru_utime + children.ru_stime
    os.write(2, f"@@mark {name} {time.time():.6f} {cpu:.6f}\n".encode())
_mark("script")
_script = sys.argv[1]
class _Probe:
    def find_spec(self, name, path=None, target=None):
        if name != "guiding.core.steps":
            return None
        sys.meta_path.remove(self)
        import importlib.util
        spec = importlib.util.find_spec(name)
        loader = spec.loader
        run = loader.exec_module
        def exec_module(module):
            run(module)
            real = module.run_step
            def run_step(snakemake, step):
                import functools
                @functools.wraps(step)
                def timed(**arguments):
                    _mark("step")
                    try:
                        return step(**arguments)
                    finally:
                        _mark("record")
                real(snakemake, timed)
                _mark("done")
            # run_step finds the script by its caller's globals: the wrapper's are the script's.
            module.run_step = type(run_step)(run_step.__code__, _globals, "run_step", None, run_step.__closure__)
        loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, _Probe())
_globals = {"__name__": "__main__", "__builtins__": __builtins__, "_mark": _mark}
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(_script))  # as for `python script`
with open(_script) as f:
    _code = compile(f.read(), _script, "exec")
_globals["__file__"] = _script
exec(_code, _globals)
"""


def job_specs(work: Path, config: dict, train_steps: int, new_tokens: int) -> dict[str, dict]:
    """Each job type's named input, output, params, wildcards, resources and log, as its rule gives them."""
    import yaml

    recipe = yaml.safe_load((HERE / config["training"]["stage2"]).read_text())
    recipe = {**recipe, "seed": SEED, "max_steps": train_steps}
    evaluation = config["evaluation"]
    benchmarks = [f"results/data/benchmarks/{b}.jsonl" for b in BENCHES]
    graded_model = f"stage2-{SET_NAME}"
    eval_dir = "results/eval/{model}/seed42/{bench}"
    return {
        "train_stage2": {
            "input": {"model": "results/models/stage1/seed42", "data": f"results/sets/{SET_NAME}.jsonl"},
            "output": {"trained": f"results/models/stage2/{SET_NAME}/seed42"},
            "params": {"recipe": recipe, "checkpoints": f"results/checkpoints/stage2/{SET_NAME}/seed42"},
            "wildcards": {"run": SET_NAME, "seed": str(SEED)},
            "resources": {"gpu": config["training"]["gpus"]},
            "log": f"results/logs/train/stage2-{SET_NAME}/seed42.log",
        },
        "generate_predictions": {
            "input": {"model": "results/models/stage1/seed42", "tasks": benchmarks},
            "output": {
                "predictions": [eval_dir.format(model="stage1", bench=b) + ".predictions.jsonl" for b in BENCHES]
            },
            "params": {
                "backend": config["backends"]["generator"],
                "generation": {"max_new_tokens": new_tokens, "batch_size": evaluation["batch_size"]},
            },
            "wildcards": {"model": "stage1", "seed": str(SEED)},
            "resources": {"gpu": evaluation["gpus"]},
            "log": "results/logs/eval/stage1/seed42/generate.log",
        },
        "grade_predictions": {
            "input": {
                "tasks": benchmarks,
                "predictions": [eval_dir.format(model=graded_model, bench=b) + ".predictions.jsonl" for b in BENCHES],
            },
            "output": {
                "graded": [eval_dir.format(model=graded_model, bench=b) + ".graded.jsonl" for b in BENCHES],
                "grading_report": [eval_dir.format(model=graded_model, bench=b) + ".grading.json" for b in BENCHES],
            },
            "params": {},
            "wildcards": {"model": graded_model, "seed": str(SEED)},
            "resources": {},
            "log": f"results/logs/eval/{graded_model}/seed42/grade.log",
        },
        "set_statistics": {
            "input": {"supervision_set": f"results/sets/{SET_NAME}.jsonl"},
            "output": {"stats": f"results/data/stats/{SET_NAME}.json"},
            "params": {},
            "wildcards": {"name": SET_NAME},
            "resources": {},
            "log": f"results/logs/set_statistics/{SET_NAME}.log",
        },
    }


def _namedlist(cls, values: dict):
    """A Snakemake Namedlist of ``values``, a list value named as one slice (as ``expand`` gives)."""
    named = cls()
    for name, value in values.items():
        start = len(named)
        if isinstance(value, list):
            named.extend(value)
            named._set_name(name, start, len(named))
        else:
            named.append(value)
            named._set_name(name, start)
    return named


class _ScriptPath:
    """What Snakemake's preamble generator asks of a script's source path."""

    def __init__(self, script: Path):
        self.script = script

    def get_basedir(self):
        return self

    def get_path_or_uri(self, secret_free=True):
        return str(self.script.parent)


def write_job_script(work: Path, repo: Path, job: str, spec: dict, config: dict) -> Path:
    """The job's script as Snakemake runs it: the preamble, then the rule's script."""
    from snakemake.iocontainers import InputFiles, Log, OutputFiles, Params, ResourceList, Wildcards
    from snakemake.script import PythonScript

    script = (repo / "scripts" / f"{job}.py").resolve()
    resources = {"_cores": 1, "_nodes": 1, "tmpdir": tempfile.gettempdir(), **spec["resources"]}
    preamble = PythonScript.generate_preamble(
        path=_ScriptPath(script),
        cache_path=None,
        source=None,
        basedir=str(script.parent),
        input_=_namedlist(InputFiles, spec["input"]),
        output=_namedlist(OutputFiles, spec["output"]),
        params=_namedlist(Params, spec["params"]),
        wildcards=_namedlist(Wildcards, spec["wildcards"]),
        threads=1,
        resources=_namedlist(ResourceList, resources),
        log=_namedlist(Log, {"log": spec["log"]}),
        config=config,
        rulename=job,
        conda_env=None,
        container_img=None,
        singularity_args="",
        env_modules=None,
        bench_record=None,
        jobid=0,
        bench_iteration=None,
        cleanup_scripts=True,
        shadow_dir=None,
        is_local=True,
        preamble_addendum=f"__real_file__ = __file__; __file__ = {str(script)!r};",
    )
    # Snakemake makes the folders of a job's outputs and log before it starts the job.
    for value in [*spec["output"].values(), spec["log"]]:
        for file in value if isinstance(value, list) else [value]:
            (work / file).parent.mkdir(parents=True, exist_ok=True)
    path = work / ".snakemake" / "scripts" / f"tmpbench.{job}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(preamble + script.read_text())
    return path


def prepare(work: Path, repo: Path, train_steps: int, new_tokens: int) -> dict[str, Path]:
    """The inputs (once per work directory) and every job's script; job type -> script."""
    import yaml

    config = yaml.safe_load((HERE / "config" / "config.yaml").read_text())
    if not (work / "results" / "sets" / f"{SET_NAME}.jsonl").exists():
        work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(HERE / "src")}
        subprocess.run(
            [sys.executable, "-c", FIXTURES, str(work), str(HERE / "config" / "config.yaml")], env=env, check=True
        )
    specs = job_specs(work, config, train_steps, new_tokens)
    return {job: write_job_script(work, repo, job, specs[job], config) for job in specs}


def job_environment(repo: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(repo / "src")}


def parse_importtime(stderr: str) -> tuple[list[dict], dict[str, float]]:
    """Import lines ({phase, depth, name, self_s, cumulative_s}) and the probe's marks."""
    imports, marks, phase = [], {}, "startup"
    line_re = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")
    for line in stderr.splitlines():
        if line.startswith("@@mark "):
            _, name, at, cpu = line.split()
            marks[name] = float(at)
            marks[f"{name}_cpu"] = float(cpu)
            phase = {"step": "step", "record": "record", "done": "exit"}.get(name, phase)
            continue
        m = line_re.match(line)
        if m:
            imports.append(
                {
                    "phase": phase,
                    "depth": len(m.group(3)) // 2,
                    "name": m.group(4),
                    "self_s": int(m.group(1)) / 1e6,
                    "cumulative_s": int(m.group(2)) / 1e6,
                }
            )
    return imports, marks


PHASES = ("startup", "step", "record", "exit", "whole")


def run_once(job: str, script: Path, work: Path, repo: Path) -> dict:
    """One run of a job under -X importtime and the probe: per phase its wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROBE, str(script)],
        cwd=work,
        env=job_environment(repo),
        capture_output=True,
        text=True,
    )
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    imports, marks = parse_importtime(proc.stderr)
    if proc.returncode != 0 or not {"script", "step", "record", "done"} <= set(marks):
        raise SystemExit(f"{job} failed (exit {proc.returncode}); its stderr ends:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    figures = {
        "modules": len(imports),
        "modules_before_step": sum(i["phase"] == "startup" for i in imports),
        "imports_s": sum(i["self_s"] for i in imports),
        "_imports": imports,
    }
    for phase in ("startup", "step", "record", "exit"):
        figures[f"imports_{phase}_s"] = sum(i["self_s"] for i in imports if i["phase"] == phase)
    bounds = {
        "startup": (None, "step"),
        "step": ("step", "record"),
        "record": ("record", "done"),
        "exit": ("done", None),
    }
    for phase, (first, last) in bounds.items():
        figures[f"{phase}_wall_s"] = (marks[last] if last else ended) - (marks[first] if first else started)
        figures[f"{phase}_cpu_s"] = (marks[f"{last}_cpu"] if last else cpu) - (marks[f"{first}_cpu"] if first else 0)
    figures["whole_wall_s"], figures["whole_cpu_s"] = ended - started, cpu
    return figures


def top_imports(imports: list[dict], n: int) -> list[dict]:
    return sorted(imports, key=lambda i: -i["cumulative_s"])[:n]


def top_packages(imports: list[dict], n: int) -> list[tuple[str, float, int]]:
    """Top-level packages by summed self time: (package, seconds, modules)."""
    totals: dict[str, list] = {}
    for i in imports:
        entry = totals.setdefault(i["name"].split(".")[0], [0.0, 0])
        entry[0] += i["self_s"]
        entry[1] += 1
    return sorted(((p, s, c) for p, (s, c) in totals.items()), key=lambda t: -t[1])[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=HERE, help="the checkout whose src/ and scripts/ run the jobs")
    parser.add_argument("--workdir", type=Path, help="where the inputs and the jobs' outputs go")
    parser.add_argument("--jobs", nargs="+", choices=JOBS, default=list(JOBS))
    parser.add_argument("--runs", type=int, default=3, help="runs per job type (medians are printed)")
    parser.add_argument("--top", type=int, default=12, help="imports and packages listed per job type")
    parser.add_argument("--train-steps", type=int, default=2, help="stage-2 training steps (max_steps)")
    parser.add_argument("--new-tokens", type=int, default=32, help="tokens generated per answer")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    parser.add_argument("--commands", action="store_true", help="print the plain job commands and stop")
    args = parser.parse_args()
    repo = args.repo.resolve()
    tag = hashlib.sha256(str(repo).encode()).hexdigest()[:8]
    work = (args.workdir or Path(tempfile.gettempdir()) / f"job-startup-{tag}").resolve()
    scripts = prepare(work, repo, args.train_steps, args.new_tokens)
    if args.commands:
        for job in args.jobs:
            print(f"{job}: sh -c 'cd {work} && PYTHONPATH={repo / 'src'} exec {sys.executable} {scripts[job]}'")
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True)
    print(f"checkout {repo} at {commit.stdout.strip() or '?'}; work directory {work}; {args.runs} run(s) per job")
    everything = {}
    for job in args.jobs:
        runs = [run_once(job, scripts[job], work, repo) for _ in range(args.runs)]
        everything[job] = [{k: v for k, v in r.items() if not k.startswith("_")} for r in runs]
        print(f"\n## {job}")
        print(f"  {'':24s} {'median':>8s}   runs")
        rows = [("modules", "modules"), ("modules before the step", "modules_before_step")]
        rows += [("imports, sum of self (s)", "imports_s")]
        rows += [(f"  imports in {p}", f"imports_{p}_s") for p in ("startup", "step", "record", "exit")]
        rows += [(f"{p} wall (s)", f"{p}_wall_s") for p in PHASES]
        rows += [(f"{p} cpu (s)", f"{p}_cpu_s") for p in PHASES]
        for label, key in rows:
            values = [r[key] for r in runs]
            shown = " ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in values)
            print(f"  {label:24s} {statistics.median(values):8.3f}   {shown}")
        imports = runs[0]["_imports"]
        print(f"  top {args.top} imports by cumulative time (run 1; depth = nesting; phase = where in the job):")
        for i in top_imports(imports, args.top):
            nested = "  " * i["depth"] + i["name"]
            print(f"    {i['cumulative_s']:7.3f} s  self {i['self_s']:6.3f}  {i['phase']:7s} {nested}")
        print(f"  top {args.top} top-level packages by their own import time (run 1):")
        for package, seconds, count in top_packages(imports, args.top):
            print(f"    {seconds:7.3f} s  {count:5d} modules  {package}")
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2))


if __name__ == "__main__":
    main()
