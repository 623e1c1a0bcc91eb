"""config/paper.yaml: the paper's whole grid, planned from the config alone, with nothing of the
embedded default in it, GPUs on every training and generation job and API calls on the head node."""

import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from guiding.config import load_config, runs_on_head_node, set_specs, stage2_runs

PAPER = ROOT / "config" / "paper.yaml"
DATA_ROLES = ("decomposer", "subtask_filter", "teacher", "step_judge", "final_judge", "rewriter", "paraphraser")


@pytest.fixture(scope="module")
def paper():
    return load_config(PAPER, ROOT)


def local_files(config: dict) -> list[str]:
    """The local data files paper.yaml reads (the user downloads them; planning needs them there)."""
    sources = [*config["hub_tasks"]["sources"], *config["training"]["stage1_data"]["sources"]]
    sources += list(config["evaluation"]["benchmarks"].values())
    return sorted({s["source"] for s in sources if Path(s["source"]).suffix in (".jsonl", ".json", ".parquet")})


def test_the_paper_config_holds_nothing_of_the_embedded_default(paper):
    given = yaml.safe_load(PAPER.read_text())
    embedded = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert "world" not in paper and paper["teachers"] == given["teachers"]
    assert paper["backends"] == {**paper["backends"], **given["backends"]}
    for role, spec in paper["llm"]["roles"].items():  # every role asks an endpoint of paper.yaml
        assert spec["endpoint"] in given["llm"]["endpoints"], role
    assert "simulated" not in paper["llm"]["endpoints"]
    assert not set(paper["teachers"]) & set(embedded["teachers"]) - {"main"}
    assert list(paper["evaluation"]["benchmarks"]) == list(given["evaluation"]["benchmarks"])


def test_the_paper_grid_is_every_er_for_both_kinds_the_weaker_teachers_and_the_controls(paper):
    rates = list(range(0, 101, 10))
    sets = set_specs(paper)
    for kind in ("hard", "subtask"):
        assert {f"{kind}-main-er{r}" for r in rates} <= set(sets)
    weaker = {"llama70b", "gpt35", "commandr08", "commandr03"}
    assert {f"hard-{t}-er90" for t in weaker} <= set(sets)
    runs = stage2_runs(paper)
    assert len(runs) == 2 * len(rates) + len(weaker) + len(paper["sets"]["combinations"]) + len(paper["extra_runs"])


def test_api_jobs_run_on_the_head_node_and_local_models_on_compute_nodes(paper):
    assert all(runs_on_head_node(paper, role) for role in DATA_ROLES)
    assert not runs_on_head_node(paper, "generator")  # vLLM on the evaluation GPUs
    offline = {**paper, "llm": {**paper["llm"], "endpoints": {**paper["llm"]["endpoints"]}}}
    offline["llm"]["endpoints"]["openai"] = {"backend": "vllm", "settings": {}}
    assert not runs_on_head_node(offline, "teacher")  # a model on the job's own machine


def test_a_dry_run_plans_the_whole_grid_with_gpus_on_training_and_generation(paper, tmp_path):
    for path in local_files(paper):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).touch()
    cmd = [sys.executable, "-m", "snakemake", "-n", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path)]
    cmd += ["--workflow-profile", "none", "--configfile", str(PAPER)]
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    print(f"\npaper grid planned in {time.monotonic() - start:.1f} s")
    assert out.returncode == 0, out.stderr[-3000:]
    jobs = re.findall(r"^rule (\w+):\n(?:.*\n)*?\s+resources: (.*)$", out.stdout, flags=re.M)
    planned = Counter(rule for rule, _ in jobs)
    runs, benchmarks = stage2_runs(paper), paper["evaluation"]["benchmarks"]
    assert planned["train_stage2"] == len(runs) and planned["train_stage1"] == 1
    assert planned["generate_predictions"] == 1 + len(runs)  # one job per model answers every benchmark
    assert len(benchmarks) > 1
    gpus = {"train_stage1": paper["training"]["gpus"], "train_stage2": paper["training"]["gpus"]}
    gpus["generate_predictions"] = paper["evaluation"]["gpus"]
    for rule, resources in jobs:
        if rule in gpus:
            assert f"gpu={gpus[rule]}" in resources.split(", "), (rule, resources)


def conversion_route() -> dict:
    """The commented conversion route of paper.yaml (the entries that replace jee, sat and gaokao)."""
    text = PAPER.read_text()
    block = text[text.index("gaokao entries with:") :].split("\nevaluation:")[0]
    lines = [line[3:] for line in block.splitlines()[1:] if line.startswith("#   ")]
    return yaml.safe_load("\n".join(lines))


def test_the_commented_conversion_route_is_a_valid_config_whose_converter_is_estimated(tmp_path, monkeypatch):
    from guiding.config import estimated_calls

    route = conversion_route()
    assert set(route) == {"jee", "sat", "gaokao"} and {spec["convert"] for spec in route.values()} == {
        "open_questions",
        "translate_en",
    }
    monkeypatch.chdir(tmp_path)  # the route's local files, relative to the working directory
    for name, rows in (("sat", 220), ("gaokao", 118)):
        path = Path(route[name]["source"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f'{{"question": "q{i}", "label": "A", "answer": "1"}}\n' for i in range(rows)))
    for path in local_files(load_config(PAPER, ROOT, check=False)):  # the data the rest of paper.yaml reads
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text('{"problem": "p", "solution": "s"}\n')
    overlay = tmp_path / "route.yaml"
    overlay.write_text(yaml.safe_dump({"evaluation": {"benchmarks": {**route}}}))
    config = load_config([PAPER, overlay], ROOT)  # the checks pass, the spending limit included
    (converter,) = [c for c in estimated_calls(config) if c.role == "converter"]
    assert converter.requests == 300 + 220 + 118 and converter.model == "gpt-4o-mini"
    assert runs_on_head_node(config, "converter")  # an API: a localrule
