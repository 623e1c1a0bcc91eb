"""Typos and bad values that the config check refuses before any job, naming the key (issue 24, item 6)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from guiding.config import ConfigError, check_config, load_config, load_recipes

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "config" / "schema.yaml")
sys.path.insert(0, str(Path(__file__).parent))


def default_config():
    return load_recipes(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), ROOT)


def with_openai_endpoint(config, settings=None, **endpoint):
    """The default with its decomposer asking an OpenAI-compatible endpoint named ``api``."""
    config.setdefault("llm", {}).setdefault("endpoints", {"simulated": {"backend": "simulated"}})
    config["llm"]["endpoints"]["api"] = {"backend": "openai", "base_url": "http://127.0.0.1:1/v1", **endpoint}
    if settings is not None:
        config["llm"]["endpoints"]["api"]["settings"] = settings
    config["llm"].setdefault("roles", {})["decomposer"] = {
        "endpoint": "api",
        "model": "m",
        "temperature": 0.0,
        "max_tokens": 64,
    }
    return config


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda c: c["student"]["architecture"].update(intermediat_size=64),
            "student.architecture.intermediat_size: not a parameter of LlamaConfig; did you mean 'intermediate_size'?",
        ),
        (
            lambda c: with_openai_endpoint(c, {"clint": "aiohttp"}),
            "llm.endpoints.api.settings.clint: not a setting of the openai backend",
        ),
        (
            lambda c: with_openai_endpoint(c, {"timeout_s": "long"}),
            "llm.endpoints.api.settings.timeout_s: 'long' is a string, but the openai backend's timeout_s takes number",
        ),
        (
            lambda c: c["llm"]["endpoints"].update(local={"backend": "transformers", "settings": {"device": "cpu"}}),
            "llm.endpoints.local.settings.model_path: needed by the transformers backend",
        ),
        (
            lambda c: c["training"]["stage2"].update(max_steps="four"),
            "training.stage2.max_steps: 'four' is a string, but SFTConfig.max_steps takes integer",
        ),
        (
            lambda c: c["training"]["stage1"].update(weight_decay="lots"),
            "training.stage1.weight_decay: 'lots' is a string, but SFTConfig.weight_decay takes number",
        ),
        (
            lambda c: c["training"]["stage2"].update(lr_scheduler_type="cosin"),
            "training.stage2.lr_scheduler_type: 'cosin' is not one of ['linear', 'cosine'",
        ),
        (
            lambda c: c.setdefault("extra_runs", {}).update(
                longer={"set": "hard_main_er0", "recipe_overrides": {"num_train_epochs": "many"}}
            ),
            "extra_runs.longer.recipe_overrides.num_train_epochs: 'many' is a string",
        ),
        (lambda c: c["sets"]["teacher_comparison"].update(teachers=[]), "teacher_comparison"),
    ],
)
def test_bad_keys_and_values_are_refused_naming_the_key(mutate, message):
    config = default_config()
    mutate(config)
    with pytest.raises((ConfigError, WorkflowError), match=re.escape(message)):
        validate(config, SCHEMA, set_default=True)
        check_config(config)


def test_the_scheduler_typo_names_the_allowed_values_and_the_closest():
    config = default_config()
    config["training"]["stage2"]["lr_scheduler_type"] = "cosin"
    validate(config, SCHEMA, set_default=True)
    with pytest.raises(ConfigError, match=r"did you mean 'cosine'\?") as refused:
        check_config(config)
    assert "'constant_with_warmup'" in str(refused.value)


def test_a_missing_api_key_is_refused_at_the_start_unless_replaying():
    from guiding.config import check_keys  # run at the run's start (rules/common.smk, onstart)

    config = with_openai_endpoint(default_config(), api_key_env="GUIDING_TEST_MISSING_KEY")
    validate(config, SCHEMA, set_default=True)
    check_config(config)  # a dry run needs no key
    with pytest.raises(ConfigError, match=r"llm\.endpoints\.api\.api_key_env: .*GUIDING_TEST_MISSING_KEY is not set"):
        check_keys(config, environ={})
    check_keys(config, environ={"GUIDING_TEST_MISSING_KEY": "k"})
    config["llm"]["replay"] = True
    check_keys(config, environ={})
    # An endpoint that no enabled role asks needs no key.
    config["llm"]["replay"] = False
    config["llm"]["roles"]["decomposer"]["endpoint"] = "simulated"
    check_keys(config, environ={})


def test_estimate_layers_an_overlay_on_the_default_as_snakemake_does(tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("cost: {limit_usd: 1000}\n")
    config = load_config(overlay, ROOT)
    assert config["world"]["seed"] == yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["world"]["seed"]
    out = subprocess.run(
        [sys.executable, "-m", "guiding.cli", "estimate", "--configfile", str(overlay)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "within cost.limit_usd $1,000.00" in out.stdout


def test_the_checks_run_before_any_job_in_a_dry_run(tmp_path):
    from conftest import small_study_command

    config = yaml.safe_load((ROOT / "tests" / "config" / "small.yaml").read_text())
    config["student"]["architecture"]["intermediat_size"] = 64
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    out = subprocess.run(small_study_command(tmp_path, "-n", configfile=bad), capture_output=True, text=True)
    said = out.stdout + out.stderr
    assert out.returncode != 0 and "Nothing to be done" not in said and "Job stats" not in said
    assert "student.architecture.intermediat_size: not a parameter of LlamaConfig" in said
    assert "did you mean 'intermediate_size'?" in said


def test_the_lists_of_library_fields_match_the_installed_libraries():
    from field_specs import llama_parameters, sft_specs

    from guiding.config_values import llama_config_fields, sft_config_specs

    assert sft_config_specs() == sft_specs()
    assert llama_config_fields() == {p for p in llama_parameters() if not p.startswith("_")}


def test_a_run_without_its_api_key_stops_before_the_first_job(tmp_path):
    from conftest import small_study_command

    config = yaml.safe_load((ROOT / "tests" / "config" / "small.yaml").read_text())
    with_openai_endpoint(config, api_key_env="GUIDING_TEST_MISSING_KEY")
    config.setdefault("backends", {})["decomposer"] = "llm"
    path = tmp_path / "keyless.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if k != "GUIDING_TEST_MISSING_KEY"}
    out = subprocess.run(
        small_study_command(tmp_path / "run", "--cores", "1", configfile=path), capture_output=True, text=True, env=env
    )
    said = out.stdout + out.stderr
    assert out.returncode != 0 and "GUIDING_TEST_MISSING_KEY is not set" in said, said[-3000:]
    assert not (tmp_path / "run" / "results").exists()  # no job ran
    dry = subprocess.run(small_study_command(tmp_path / "run", "-n", configfile=path), capture_output=True, env=env)
    assert dry.returncode == 0  # planning needs no key
