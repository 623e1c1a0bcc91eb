"""Conda env files: each parses, every rule names one (and a log), and pins agree with pyproject."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from guiding.envs import GPU_ENVS, GROUPS, job_env

ENVS = sorted((ROOT / "envs").glob("*.yaml"))
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)$")


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    pins = {}
    for spec in specs:
        m = PIN.match(spec)
        assert m, f"pyproject.toml: {spec!r} is not pinned with =="
        pins[m[1].lower()] = m[2]
    return pins


def env_pins(path: Path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep["pip"]:
                if spec.startswith("--"):
                    continue
                m = PIN.match(spec)
                assert m, f"{path.name}: pip requirement {spec!r} is not pinned with =="
                pins[m[1].lower()] = m[2]
    return pins


def test_there_is_one_env_per_group_of_rules_and_one_per_kind_of_gpu_job():
    assert {p.stem for p in ENVS} == {*GROUPS, *GPU_ENVS.values()}


def test_a_gpu_job_gets_the_gpu_env_of_its_group():
    assert job_env("training", 0) == "../envs/training.yaml"
    assert job_env("training", 8) == "../envs/gpu-training.yaml"
    assert job_env("evaluation", 1) == "../envs/gpu-generation.yaml"
    assert job_env("evaluation") == "../envs/evaluation.yaml"
    assert job_env("data", 4) == "../envs/data.yaml"  # no GPU env: the group's own
    with pytest.raises(ValueError, match="no env group"):
        job_env("gpu")


def test_the_gpu_envs_hold_what_paper_mode_needs():
    training = (ROOT / "envs" / "gpu-training.yaml").read_text()
    assert "download.pytorch.org/whl/cu" in training, "gpu-training: no CUDA index for torch"
    assert "whl/cpu" not in training
    assert {"torch", "deepspeed", "trl", "accelerate"} <= set(env_pins(ROOT / "envs" / "gpu-training.yaml"))
    generation = env_pins(ROOT / "envs" / "gpu-generation.yaml")
    assert "vllm" in generation
    # vLLM pins its own torch and transformers (other versions than the package's): the env leaves them to it.
    assert not {"torch", "transformers", "tokenizers"} & set(generation)


def test_the_cluster_extra_holds_the_executor_plugin_also_for_the_tests():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    plugin = [s for s in extras["cluster"] if s.startswith("snakemake-executor-plugin-slurm==")]
    assert plugin and plugin[0] in extras["test"]


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_files_parse_and_agree_with_pyproject(path):
    env = yaml.safe_load(path.read_text())
    assert env["channels"] and any(str(d).startswith("python=") for d in env["dependencies"])
    pins, project = env_pins(path), pyproject_pins()
    assert pins, f"{path.name} pins nothing"
    for name, version in pins.items():
        assert name in project, f"{path.name}: {name} is not a dependency in pyproject.toml"
        assert project[name] == version, f"{path.name}: {name}=={version} but pyproject.toml pins {project[name]}"


def parsed_rules() -> list[str]:
    """The rules Snakemake itself parses from the workflow (including ``all``)."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--list-rules", "--directory", str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.split()


# A rule's env: a file of envs/, or job_env(group, its gpu resource) for a rule that may run on GPUs.
CONDA = re.compile(r"conda:\s*\n\s*(?:\"\.\./envs/(\w+)\.yaml\"|job_env\(\"(\w+)\", config\[\"(\w+)\"\]\[\"gpus\"\]\))")


def test_every_rule_has_a_conda_env_and_a_log():
    # The rules Snakemake itself parses must be exactly the rules found in rules/, each with env and log.
    listing = parsed_rules()
    text = "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    blocks = re.split(r"^rule ", text, flags=re.M)[1:]
    by_name = {b.split(":", 1)[0]: b for b in blocks}
    assert set(by_name) == set(listing) - {"all"}, "rules parsed by Snakemake differ from rules in rules/"
    for name, block in by_name.items():
        conda = re.search(CONDA, block)
        assert conda, f"rule {name} names no conda env"
        group = conda[1] or conda[2]
        assert (ROOT / "envs" / f"{group}.yaml").exists(), f"rule {name}: envs/{group}.yaml is missing"
        if conda[2]:  # a rule that may run on GPUs takes the GPU env where its job asks for GPUs
            assert re.search(rf"gpu=config\[\"{conda[3]}\"\]\[\"gpus\"\]", block), f"rule {name}: env and gpu differ"
            assert (ROOT / job_env(group, 1).replace("../", "")).exists()
        assert re.search(r"^\s+log:", block, flags=re.M), f"rule {name} has no log"


def test_the_committed_rule_graph_shows_every_rule():
    """docs/rulegraph.svg (README) is regenerated by `make rulegraph`; a stale one fails here."""
    listing = set(parsed_rules()) - PAPER_ONLY_RULES
    svg = (ROOT / "docs" / "rulegraph.svg").read_text()
    drawn = set(re.findall(r"<text[^>]*>(\w+)</text>", svg))
    assert drawn == listing, f"make rulegraph: drawn {sorted(drawn ^ listing)} differ from the rules"


# Rules the default's graph cannot draw (the README names them): one only a paper-mode config plans,
# and the export of pairs in the authors' released layout, built only when asked for by name.
PAPER_ONLY_RULES = {"convert_benchmark", "export_released_pairs", "export_released_samples"}
