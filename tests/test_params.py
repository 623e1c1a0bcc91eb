"""The rules' params (guiding.params), built from a config without Snakemake."""

from types import SimpleNamespace

import pytest
from conftest import ROOT, SMALL

from guiding.config import load_config
from guiding.implementations import LLM_ROLE_OF, llm_role, llm_switches
from guiding.params import NoParamsBuilder, RuleParams


@pytest.fixture(scope="module")
def default():
    return load_config(ROOT / "config" / "config.yaml", ROOT, check=False)


@pytest.fixture(scope="module")
def small():
    return load_config(SMALL, ROOT, check=False)


def test_an_llm_teacher_asks_its_own_model_with_the_simulated_world_s_errors(default):
    settings = RuleParams(default).teacher_settings(SimpleNamespace(teacher="main"))
    llm = settings["llm"]
    assert llm["model"] == default["teachers"]["main"].get("model", "main")
    assert llm["backend"] == "simulated" and llm["endpoint"] == default["llm"]["roles"]["teacher"]["endpoint"]
    assert llm["settings"]["teachers"]["main"]["step_error"] == default["teachers"]["main"]["step_error"]


def test_a_simulated_teacher_gets_only_what_makes_its_answers(small):
    simulated = {**small, "backends": {**small["backends"], "teacher": "simulated"}}
    settings = RuleParams(simulated).teacher_settings(SimpleNamespace(teacher="weak"))
    assert settings == {"error_style": "wrong_op", "step_error": 0.6}


def test_the_rewriter_asks_the_teacher_s_model_and_none_keeps_the_reference(default):
    rewriter = RuleParams(default).rewriter_settings(SimpleNamespace(teacher="main"))
    teacher = RuleParams(default).teacher_settings(SimpleNamespace(teacher="main"))
    assert rewriter["backend"] == "llm" and rewriter["settings"]["seed"] == default["sampling"]["seed"]
    assert rewriter["settings"]["llm"]["model"] == teacher["llm"]["model"]
    without = {**default, "backends": {**default["backends"], "rewriter": "none"}}
    assert RuleParams(without).rewriter_settings(SimpleNamespace(teacher="main")) is None


@pytest.mark.parametrize(
    "role, call",
    [
        ("teacher", lambda p: p.teacher_settings(SimpleNamespace(teacher="main"))),
        ("rewriter", lambda p: p.rewriter_settings(SimpleNamespace(teacher="main"))),
        ("decomposer", lambda p: p.decomposition_settings()),
        ("subtask_filter", lambda p: p.subtask_filter_settings()),
        ("paraphraser", lambda p: p.paraphraser_settings()),
        ("final_judge", lambda p: p.second_opinions()),
        ("task_source", lambda p: p.task_source_settings()),
    ],
)
def test_an_implementation_with_no_params_builder_is_refused_by_name(default, role, call):
    third = {**default, "backends": {**default["backends"], role: "third"}}
    with pytest.raises(NoParamsBuilder, match=f"backends.{role}: no params for implementation 'third'"):
        call(RuleParams(third))


def test_second_opinions_carry_each_judge_s_noise_under_its_llm_role(default):
    opinions = RuleParams(default).second_opinions()
    flips = default["llm"]["simulated_judges"]
    assert set(opinions) == {"final_judge", "step_judge_check"}
    check = opinions["step_judge_check"]["settings"]["llm"]
    assert check["settings"]["step_judge_flip"] == flips["step_judge_check"]
    assert check["model"] == default["llm"]["roles"]["step_judge"]["model"]
    noiseless = {**default, "llm": {**default["llm"], "simulated_judges": {"final_judge": 0, "step_judge_check": 0}}}
    assert (
        "final_judge_flip" not in RuleParams(noiseless).second_opinions()["final_judge"]["settings"]["llm"]["settings"]
    )


def test_the_config_subset_keeps_of_the_llm_section_only_what_changes_answers(default):
    subset = RuleParams(default).config_subset("llm", "sets", "not_a_section")
    assert set(subset) == {"llm", "sets"} and set(subset["llm"]) == {"endpoints", "roles"}
    assert list(subset["sets"]) == sorted(subset["sets"])  # canonical: keys sorted


def test_greedy_decoding_leaves_the_sampling_settings_out(small):
    evaluation = {**small["evaluation"], "temperature": 0}
    greedy = RuleParams({**small, "evaluation": evaluation}).generation_settings()
    assert set(greedy) == {"max_new_tokens", "batch_size"}
    sampled = RuleParams({**small, "evaluation": {**evaluation, "temperature": 0.7, "seeds": [1, 2]}})
    assert sampled.generation_settings()["seeds"] == [1, 2]


def test_a_local_benchmark_or_hub_source_file_is_an_input_and_a_hub_dataset_is_not(small):
    benchmarks = {"local": {"source": "data/x.jsonl", "label": "X"}, "hub": {"source": "org/set", "label": "H"}}
    params = RuleParams({**small, "evaluation": {**small["evaluation"], "benchmarks": benchmarks}})
    assert params.conversion_source(SimpleNamespace(bench="local")) == {"source_file": "data/x.jsonl"}
    assert params.conversion_source(SimpleNamespace(bench="hub")) == {}
    hub = {**small, "backends": {**small["backends"], "task_source": "hub"}}
    hub["hub_tasks"] = {"sources": [{"source": "pool.jsonl"}, {"source": "org/numina"}]}
    assert RuleParams(hub).task_source_files() == {"source_files": ["pool.jsonl"]}


def test_roles_and_their_switches_are_one_relation():
    for switch, role in LLM_ROLE_OF.items():
        assert llm_role(switch) == role and switch in llm_switches(role)
    assert llm_switches("step_judge") == ("step_judge", "step_judge_check")
    assert llm_role("teacher") == "teacher" and llm_switches("teacher") == ("teacher",)


def test_a_stage2_seed_offset_moves_stage_2_s_seed_and_leaves_stage_1_s(default):
    job = SimpleNamespace(run="hard-main-er50", seed="7")
    plain = RuleParams(default)
    shifted = RuleParams({**default, "replicates": {**default["replicates"], "stage2_seed_offset": 1000}})
    assert plain.stage2_recipe(job)["seed"] == 7 and shifted.stage2_recipe(job)["seed"] == 1007
    assert shifted.stage1_recipe(job) == plain.stage1_recipe(job)
    # Everything else of the recipe is the run's own.
    assert {**shifted.stage2_recipe(job), "seed": 7} == plain.stage2_recipe(job)
