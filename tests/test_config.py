import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, small_config
from snakemake.exceptions import WorkflowError
from snakemake.utils import update_config, validate

from guiding.config import (
    ConfigError,
    check_config,
    claimed_comparisons,
    evaluated_models,
    findings_runs,
    load_config,
    load_recipes,
    set_specs,
    stage1_recipe,
    stage2_examples,
    stage2_recipe,
    stage2_runs,
    studied_sets,
)

SCHEMA = str(ROOT / "config" / "schema.yaml")


def default_config():
    """config.yaml with its recipe files read in, as rules/common.smk reads it."""
    return load_recipes(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), ROOT)


def validated(config):
    load_recipes(config, ROOT)
    validate(config, SCHEMA, set_default=True)
    check_config(config)
    return config


def test_the_shipped_configs_validate_and_defaults_are_filled():
    config = default_config()
    del config["evaluation"]
    validated(config)
    assert config["evaluation"]["max_new_tokens"] > 0  # filled from the schema
    validated(small_config())


def test_the_long_stage2_overlay_runs_the_same_study_and_keeps_stage1():
    # Snakemake merges a --configfile over config.yaml key by key, as update_config does here.
    config = default_config()
    update_config(config, yaml.safe_load((ROOT / "config" / "long_stage2.yaml").read_text()))
    validated(config)
    default = validated(default_config())
    runs, default_runs = stage2_runs(config), stage2_runs(default)
    assert set(runs) == set(default_runs)  # the same study, only longer
    assert config["training"]["stage1"] == default["training"]["stage1"]
    assert (
        runs["hard-main-er50-2x-epochs"]["recipe"]["num_train_epochs"]
        == 2 * runs["hard-main-er50"]["recipe"]["num_train_epochs"]
    )


def schema_properties(node, path="config"):
    """Every property of the schema (with its dotted path), also under definitions and items."""
    if not isinstance(node, dict):
        return
    for name, sub in node.get("properties", {}).items():
        yield f"{path}.{name}", sub
        yield from schema_properties(sub, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):  # a map of named entries: each one a property
        yield f"{path}.<name>", node["additionalProperties"]
        yield from schema_properties(node["additionalProperties"], f"{path}.<name>")
    if isinstance(node.get("items"), dict):  # array items are values, not properties; theirs are
        yield from schema_properties(node["items"], f"{path}[]")
    for name, sub in node.get("definitions", {}).items():
        yield f"definitions.{name}", sub
        yield from schema_properties(sub, f"definitions.{name}")


def test_every_schema_property_has_a_description():
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    undocumented = [path for path, sub in schema_properties(schema) if "description" not in sub]
    assert not undocumented, f"properties without a description: {undocumented}"


def test_the_default_config_states_the_schema_defaults():
    """The schema is the one source of defaults: where config.yaml states a key that has one, they agree."""
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    config = default_config()

    def walk(node, value, path):
        if not isinstance(node, dict):
            return
        if "default" in node and node["default"] != {} and value is not None:
            assert value == node["default"], (
                f"{path}: config.yaml says {value!r}, the schema's default is {node['default']!r}"
            )
        if isinstance(value, dict):
            for name, sub in node.get("properties", {}).items():
                walk(sub, value.get(name), f"{path}.{name}")

    walk(schema, config, "config")
    # And a config that leaves out every key with a default gets the very same values.
    stripped = {k: v for k, v in default_config().items() if k not in ("backends", "decomposition", "sampling")}
    assert validated(stripped)["backends"] == validated(default_config())["backends"]
    assert stripped["decomposition"] == config["decomposition"] and stripped["sampling"] == config["sampling"]


def test_the_list_of_sft_config_fields_matches_the_installed_trl():
    trl = pytest.importorskip("trl")
    import dataclasses

    from guiding.config import sft_config_fields

    assert sft_config_fields() == {f.name for f in dataclasses.fields(trl.SFTConfig)}


@pytest.mark.parametrize(
    "mutate, named",
    [
        (lambda c: c["world"].update(sizez=1), "sizez"),
        (lambda c: c["teachers"]["main"].update(step_error=1.5), "step_error"),
        (lambda c: c["teachers"]["main"].update(error_style="typo"), "error_style"),
        (lambda c: c["sets"]["error_rate_sweep"].update(error_rates=[0, 101]), "error_rates"),
        (lambda c: c["training"]["stage1"].update(learning_rate=-1), "learning_rate"),
        (lambda c: c["training"]["stage1"].pop("bf16"), "bf16"),
        (lambda c: c["backends"].update(teacher="gpt"), "teacher"),
        (lambda c: c.update(extra_key=True), "extra_key"),
        (lambda c: c.setdefault("llm", {}).update(roles={"grader": {}}), "grader"),
        (lambda c: c.setdefault("llm", {}).update(endpoints={"x": {"backend": "anthropic"}}), "backend"),
        (lambda c: c["replicates"].update(seeds=[42, 42]), "seeds"),
        (lambda c: c["replicates"].update(seeds=[]), "seeds"),
        (lambda c: c["world"].update(easy_ops=["+", "/"]), "easy_ops"),
        (lambda c: c["world"].update(easy_ops=[]), "easy_ops"),
        (lambda c: c["world"].update(easy_ops=["+", "+"]), "easy_ops"),
        (lambda c: c["teachers"]["main"].update(error_ops=["x"]), "error_ops"),
    ],
)
def test_schema_errors_name_the_offending_key(mutate, named):
    config = default_config()
    mutate(config)
    with pytest.raises(WorkflowError) as err:
        validate(config, SCHEMA, set_default=True)
    assert named in str(err.value)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda c: c["sets"]["error_rate_sweep"].update(teacher="nobody"), "sets.error_rate_sweep.teacher: 'nobody'"),
        (lambda c: c["sets"]["teacher_comparison"].update(teachers=["main", "ghost"]), "'ghost'"),
        (lambda c: c["world"].update(hard_steps=[2, 6]), "world.hard_steps"),
        (lambda c: c["world"].update(easy_steps=[3, 2]), "world.easy_steps"),
        # Hard tasks no longer than easy ones, of the same operations: nothing that stage 1 lacks.
        (
            lambda c: c["world"].update(easy_steps=[1, 4], hard_steps=[4, 5], easy_ops=["+", "-", "*"]),
            "world.hard_steps: a hard task of 4 steps is no harder than an easy task",
        ),
        (lambda c: c["extra_runs"].update(x={"set": "hard-main-er33"}), "extra_runs.x.set"),
        # 33% of 801 subtasks is 264.33: refused before any job runs, naming the size key.
        (
            lambda c: c["sets"].update(subtask_size=801) or c["sets"]["error_rate_sweep"].update(error_rates=[0, 33]),
            "sets.subtask_size: set 'subtask-main-er33' needs 33% of 801 tasks",
        ),
        (lambda c: c["sets"].update(hard_size=999), "sets.hard_size: set 'hard-main-er50' needs 50% of 999"),
        (lambda c: c["sets"].update(hard_size=2000), "sets.hard_size: 2000 hard tasks per set, but the pool"),
        (lambda c: c["sets"].update(subtask_size=3100), "sets.subtask_size: 3100 subtasks per set"),
        (
            lambda c: c["training"]["stage2"].update(lerning_rate=1e-3),
            "training.stage2.lerning_rate: not a field of TRL's SFTConfig; did you mean 'learning_rate'",
        ),
        (
            lambda c: c["extra_runs"]["hard-main-er50-2x-epochs"]["recipe_overrides"].update(epochs=3),
            "extra_runs.hard-main-er50-2x-epochs.recipe_overrides.epochs: not a field",
        ),
        # Stage 2's training seeds are replicates.seeds: a recipe seed outside them would change nothing.
        (
            lambda c: c["replicates"].update(seeds=[1, 2]),
            "training.stage2.seed: 42 is replaced by each of replicates.seeds [1, 2]",
        ),
        (
            lambda c: c["extra_runs"]["hard-main-er50-2x-epochs"]["recipe_overrides"].update(seed=3),
            "extra_runs.hard-main-er50-2x-epochs.recipe_overrides.seed: stage-2 training seeds are replicates.seeds",
        ),
        # GPUs: a CPU recipe cannot train on GPUs; several GPUs need a launcher that exists.
        (lambda c: c["training"].update(gpus=1), "training.gpus: 1 GPU(s) per job, but training.stage1 sets use_cpu"),
        (
            lambda c: c["training"].update(gpus=2) or [c["training"][s].pop("use_cpu") for s in ("stage1", "stage2")],
            "training.gpus: 2 GPUs per job need training.launcher",
        ),
        (lambda c: c["training"].update(launcher="config/accelerate/nope.yaml"), "training.launcher: no accelerate"),
        # The student's keys follow its base backend.
        (lambda c: c["backends"].update(student_base="pretrained"), "student.model: needed by"),
        (lambda c: c["student"].update(model="meta-llama/Meta-Llama-3-8B"), "student.model: not a setting"),
        # Benchmarks: a world benchmark is a held-out split; labels name table columns, once each.
        (
            lambda c: c["evaluation"].update(benchmarks={"train_hard": {"source": "world", "label": "x"}}),
            "evaluation.benchmarks.train_hard: a world benchmark is a held-out split",
        ),
        (
            lambda c: c["evaluation"].update(
                benchmarks={
                    "eval_hard": {"source": "world", "label": "x"},
                    "eval_easy": {"source": "world", "label": "x"},
                }
            ),
            "evaluation.benchmarks.eval_easy.label: 'x' is also the label of 'eval_hard'",
        ),
        # LLM roles and teachers name endpoints that exist; an openai endpoint needs its URL.
        (
            lambda c: c.setdefault("llm", {}).update(
                roles={"teacher": {"endpoint": "gpt", "model": "m", "temperature": 1, "max_tokens": 9}}
            ),
            "llm.roles.teacher.endpoint: 'gpt' is not among llm.endpoints",
        ),
        (lambda c: c["teachers"]["main"].update(endpoint="nowhere"), "teachers.main.endpoint: 'nowhere'"),
        (
            lambda c: c.setdefault("llm", {}).update(
                endpoints={"simulated": {"backend": "simulated"}, "api": {"backend": "openai"}}
            ),
            "llm.endpoints.api.base_url",
        ),
        (lambda c: c.setdefault("llm", {}).update(cache="results/cache.sqlite"), "llm.cache: 'results/cache.sqlite'"),
        # A converted benchmark needs the converter's role, at an endpoint that can answer it.
        (
            lambda c: c["evaluation"]["benchmarks"].update(
                sat={"source": "s.jsonl", "label": "SAT", "convert": "translate_en"}
            ),
            "llm.roles.converter: needed by evaluation.benchmarks.sat.convert",
        ),
        (
            lambda c: (
                c["evaluation"]["benchmarks"].update(
                    sat={"source": "s.jsonl", "label": "SAT", "convert": "translate_en"}
                )
                or c.setdefault("llm", {}).update(
                    roles={"converter": {"endpoint": "simulated", "model": "m", "temperature": 0, "max_tokens": 9}}
                )
            ),
            "llm.roles.converter.endpoint: 'simulated' is the simulated world",
        ),
        # Greedy decoding answers the same at every evaluation seed: several would repeat one evaluation.
        (
            lambda c: c["evaluation"].update(seeds=[1, 2]),
            "evaluation.seeds: 2 seeds [1, 2] with greedy decoding (evaluation.temperature 0)",
        ),
    ],
)
def test_cross_field_errors_name_the_key(mutate, message):
    config = default_config()
    mutate(config)
    validate(config, SCHEMA, set_default=True)
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_config(config)


def test_a_recipe_file_that_does_not_exist_is_named(tmp_path):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["training"]["stage2"] = "config/recipes/embedded/stage3.yaml"
    with pytest.raises(ConfigError, match=r"training\.stage2: no recipe file 'config/recipes/embedded/stage3\.yaml'"):
        load_recipes(config, ROOT)


def test_recipe_files_and_inline_recipes_are_the_same_config():
    from_files = default_config()
    inline = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for stage in ("stage1", "stage2"):
        inline["training"][stage] = yaml.safe_load(
            (ROOT / "config" / "recipes" / "embedded" / f"{stage}.yaml").read_text()
        )
    assert validated(from_files) == validated(inline)


def test_sets_and_runs_follow_from_the_config():
    config = validated(default_config())
    specs = set_specs(config)
    rates = config["sets"]["error_rate_sweep"]["error_rates"]
    for rate in rates:
        assert specs[f"hard-main-er{rate}"] == {
            "type": "error_rate",
            "kind": "hard",
            "teacher": "main",
            "error_rate": rate,
        }
        assert f"subtask-main-er{rate}" in specs
    assert specs["combo-hard50_paraphrase"]["parts"] == ["hard-main-er50", "para-hard-main-er50"]
    assert specs["para-hard-main-er50"] == {"type": "paraphrase", "base": "hard-main-er50"}
    runs = stage2_runs(config)
    assert set(studied_sets(config)) <= set(runs)
    assert "para-hard-main-er50" not in runs  # a part only, not a setting of its own
    # The paper's "more epochs" control: the same set, twice the stage-2 epochs, all else equal.
    doubled, base = runs["hard-main-er50-2x-epochs"], runs["hard-main-er50"]
    assert doubled["set"] == "hard-main-er50"
    assert doubled["recipe"]["num_train_epochs"] == 2 * base["recipe"]["num_train_epochs"]
    assert {k: v for k, v in doubled["recipe"].items() if k != "num_train_epochs"} == {
        k: v for k, v in base["recipe"].items() if k != "num_train_epochs"
    }


def test_stage2_runs_are_ordered_by_the_examples_they_train_on():
    config = validated(default_config())
    sets, epochs = config["sets"], config["training"]["stage2"]["num_train_epochs"]
    examples = {run: stage2_examples(config, run) for run in stage2_runs(config)}
    assert examples["hard-main-er0"] == sets["hard_size"] * epochs
    assert examples["subtask-main-er0"] == sets["subtask_size"] * epochs
    assert examples["hard-main-er50-2x-epochs"] == 2 * examples["hard-main-er50"]
    # A combination trains on all its parts; a paraphrase copy is as large as its base set.
    assert examples["combo-hard50_sub10"] == (sets["hard_size"] + sets["subtask_size"]) * epochs
    assert examples["combo-hard50_paraphrase"] == 2 * examples["hard-main-er50"]


def planned_teachers(workdir: Path, *configfiles: Path) -> set[str]:
    """The teachers whose samples a dry run of the workflow plans, given these config files."""
    import subprocess
    import sys

    args = [a for path in configfiles for a in ("--configfile", str(path))]
    cmd = [sys.executable, "-m", "snakemake", "-n", "-s", str(ROOT / "Snakefile"), "-d", str(workdir), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"teacher=(\w+)", out))


def test_a_config_that_names_its_mode_replaces_the_default_and_one_without_overlays_it(tmp_path):
    default = set(yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["teachers"])
    whole = small_config()
    assert "mode" in whole and set(whole["teachers"]) < default  # the small study drops a teacher
    assert planned_teachers(tmp_path, ROOT / "tests" / "config" / "small.yaml") == set(whole["teachers"])
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("world: {seed: 3}\n")
    assert planned_teachers(tmp_path, overlay) == default


def test_every_model_is_trained_and_evaluated_at_every_replicate_seed():
    config = default_config()
    config["replicates"] = {"seeds": [42, 1, 2]}
    config = validated(config)
    runs = stage2_runs(config)
    models = evaluated_models(config)
    # A replicate is the whole student pipeline: stage 1 too is trained at every seed.
    assert models == {"stage1": [42, 1, 2], **{f"stage2-{run}": [42, 1, 2] for run in runs}}
    assert stage1_recipe(config, "2") == {**config["training"]["stage1"], "seed": 2}
    assert config["training"]["stage1"]["seed"] == 42  # the recipe itself is left alone
    # The replicate's seed reaches the recipe (and so SFTConfig); nothing else changes.
    recipe = stage2_recipe(runs, "hard-main-er50-2x-epochs", "1")
    assert recipe == {**runs["hard-main-er50-2x-epochs"]["recipe"], "seed": 1}
    assert runs["hard-main-er50-2x-epochs"]["recipe"]["seed"] == 42  # the run's own recipe is left alone


def test_the_findings_are_fixed_by_the_config_before_any_result():
    config = validated(default_config())
    rates = config["sets"]["error_rate_sweep"]["error_rates"]
    claims = [(c["finding"], c["a"], c["b"], c["claim"]) for c in claimed_comparisons(config)]
    # Finding 0, the premise of finding 1: clean subtasks against the stage-1 baseline (no stage-2 run).
    assert claims[0][:3] == (0, f"subtask-main-er{min(rates)}", "stage1")
    assert claims[1][:3] == (1, f"hard-main-er{max(rates)}", f"subtask-main-er{min(rates)}")
    # Finding 2: every pair of compared teachers (the report orients each by measured step-wise ER).
    assert [c[1:3] for c in claims if c[0] == 2] == [
        ("hard-main-er90", "hard-mid-er90"),
        ("hard-main-er90", "hard-weak-er90"),
        ("hard-mid-er90", "hard-weak-er90"),
    ]
    assert [(c[1], c[2], c[3]) for c in claims if c[0] == 3] == [
        ("combo-hard50_sub10", "hard-main-er50", "hard + subtasks beats hard alone"),
        ("combo-hard50_sub10", "combo-hard50_paraphrase", "hard + subtasks beats hard + paraphrases"),
        ("combo-hard50_sub10", "hard-main-er50-2x-epochs", "hard + subtasks beats hard with more epochs"),
    ]
    assert set(findings_runs(config)) <= set(stage2_runs(config))
    # A comparison whose run the config does not train is left out: no sweep run at 50%, no "hard alone".
    config["sets"]["error_rate_sweep"]["error_rates"] = [0, 90]
    assert "hard + subtasks beats hard alone" not in {c["claim"] for c in claimed_comparisons(config)}


def test_the_conversion_runs_where_its_endpoint_is():
    """An API converter is a localrule (the head node reaches the API); a local engine's is not."""
    from guiding.config import runs_on_head_node

    config = validated(default_config())
    assert runs_on_head_node(config, "converter")  # no converter configured: nothing runs anywhere
    config["llm"]["endpoints"].update(api={"backend": "openai", "base_url": "http://x/v1"}, gpu={"backend": "vllm"})
    for endpoint, on_head_node in (("api", True), ("gpu", False)):
        config["llm"]["roles"]["converter"] = {"endpoint": endpoint, "model": "m", "temperature": 0, "max_tokens": 9}
        assert runs_on_head_node(config, "converter") is on_head_node


def test_hard_tasks_as_long_as_easy_ones_are_harder_when_they_need_a_left_out_operation():
    config = default_config()
    config["world"].update(easy_steps=[1, 4], hard_steps=[4, 5], easy_ops=["+", "-", "*"])
    with pytest.raises(ConfigError, match="world.easy_ops"):
        validated(config)
    config = default_config()
    config["world"].update(easy_steps=[1, 4], hard_steps=[4, 5], easy_ops=["+", "-"])
    assert validated(config)["world"]["easy_ops"] == ["+", "-"]


def test_the_subtasks_teach_study_validates_and_trains_only_the_runs_it_compares():
    config = validated(yaml.safe_load((ROOT / "config" / "subtasks_teach.yaml").read_text()))
    assert config["world"]["easy_ops"] == ["+", "-"]
    assert set(stage2_runs(config)) == {
        "hard-main-er0",
        "subtask-main-er0",
        "hard-main-er90",
        "subtask-main-er90",
        "hard-weak-er90",
        "hard-star-er90",
    }
    # Finding (1) compares hard supervision at 90% outcome error with clean subtasks.
    first = next(c for c in claimed_comparisons(config) if c["finding"] == 1)
    assert (first["a"], first["b"]) == ("hard-main-er90", "subtask-main-er0")


# --- refusals: typos and bad values that the config check refuses before any job, naming the key


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

    config = small_config()
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

    config = small_config()
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
