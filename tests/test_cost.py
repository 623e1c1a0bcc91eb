"""Cost control: roles from template names, the dry-run estimate, the spending limit, the cost table."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from conftest import small_config as small_study_config
from snakemake.utils import validate

from guiding import cli
from guiding.config import ConfigError, check_config, estimated_calls, load_recipes
from guiding.llm import ChatRequest, Completion, ResponseCache, Sampling, cost
from guiding.report.steps import costs_table

ESTIMATE = {
    "chars_per_token": 4,
    "problem_chars": 100,
    "solution_chars": 200,
    "template_chars": 60,
    "completion_tokens": 30,
    "subtasks_per_task": 3,
}


@pytest.mark.parametrize(
    "template, role",
    [
        ("solve/v1", "teacher"),
        ("solve.v2", "teacher"),
        ("decompose/v1", "decomposer"),
        ("filter_ill_defined.v1", "subtask_filter"),
        ("filter_too_few_steps/v3", "subtask_filter"),
        ("filter_near_duplicate/v1", "subtask_filter"),
        ("judge_final/v1", "final_judge"),
        ("judge_steps.v1", "step_judge"),
        ("rewrite/v1", "rewriter"),
        ("paraphrase/v12", "paraphraser"),
        ("convert/v1", "other:convert"),  # not in the table: billed apart, never dropped
        ("", "other:no template"),
    ],
)
def test_a_requests_role_comes_from_its_template_name(template, role):
    assert cost.role_of(template) == role


def test_the_estimate_counts_requests_and_bounds_tokens_from_the_workload(tmp_path):
    (tmp_path / "solve.v1.txt").write_text("x" * 40)  # a template file: its length counts
    (tmp_path / "solve.v2.txt").write_text("x" * 80)  # the latest version counts
    (tmp_path / "solve.v10.txt").write_text("x" * 80)  # (by number, not by name)
    (tmp_path / "solve.v9.txt").write_text("x" * 1000)
    workload = cost.Workload(hard_tasks=10, subtasks_per_task=3, samples_per_task=3, paraphrased_items=20)
    models = {"decomposer": "big", "teacher": None, "final_judge": "small", "paraphraser": "small"}
    teachers = {"main": "big", "weak": "tiny"}
    calls = cost.estimate(workload, models, teachers, {"final_judge": 5}, ESTIMATE, tmp_path)
    got = {(c.role, c.teacher): c for c in calls}
    # No subtask filter, step judge or rewriter configured: they send nothing.
    assert set(got) == {
        ("decomposer", ""),
        ("teacher", "main"),
        ("teacher", "weak"),
        ("final_judge", "main"),
        ("final_judge", "weak"),
        ("paraphraser", ""),
    }
    # Decomposer: one request per hard task; prompt (60 template chars + 100 + 200) / 4 = 90 tokens.
    assert got["decomposer", ""] == cost.RoleCall("decomposer", "", "big", 10, 900, 300)
    # Teacher: 3 samples of 10 hard tasks and their 30 subtasks = 120, each teacher with its own
    # model; prompt (80 + 100) / 4 = 45.
    assert got["teacher", "weak"] == cost.RoleCall("teacher", "weak", "tiny", 120, 120 * 45, 120 * 30)
    # Final judge: one per sample, with its own model; prompt (60 + 100 + 2 * 200) / 4 = 140, max_tokens 5.
    assert got["final_judge", "main"] == cost.RoleCall("final_judge", "main", "small", 120, 120 * 140, 120 * 5)
    # Paraphraser: problem and solution of each of 20 items apart: 40 requests, 20 * (2 * 60 + 100 + 200) / 4.
    assert got["paraphraser", ""] == cost.RoleCall("paraphraser", "", "small", 40, 20 * 105, 40 * 30)
    prices = {"big": cost.Price(1.0, 2.0), "tiny": cost.Price(0.5, 0.5), "small": cost.Price(0, 0)}
    big = 900 * 1 + 300 * 2 + 120 * 45 * 1 + 120 * 30 * 2  # decomposer and teacher main
    expected = (big + (120 * 45 + 120 * 30) * 0.5) / 1e6  # + teacher weak; the judge is free
    assert cost.total_usd(calls, prices) == pytest.approx(expected)
    assert cost.unpriced_models(calls, {"big": cost.Price(1, 1)}) == ["small", "tiny"]
    assert math.isnan(cost.total_usd(calls, {"big": cost.Price(1, 1)}))  # unpriced is never free


def test_the_filters_send_three_checks_per_subtask_and_the_rewriter_the_teachers_model(tmp_path):
    workload = cost.Workload(hard_tasks=10, subtasks_per_task=2, samples_per_task=3, paraphrased_items=0)
    models = {"subtask_filter": "f", "rewriter": None}
    calls = cost.estimate(workload, models, {"main": "big"}, {}, ESTIMATE, tmp_path)
    got = {c.role: c for c in calls}
    # 20 subtasks, 3 checks each; prompt per subtask (3 * 60 + 2 * 100 + 200) / 4 = 145 tokens.
    assert got["subtask_filter"] == cost.RoleCall("subtask_filter", "", "f", 60, 20 * 145, 60 * 30)
    # At most one rewrite per task (10 hard + 20 sub), by the teacher's own model.
    assert got["rewriter"] == cost.RoleCall("rewriter", "main", "big", 30, 30 * 90, 30 * 30)


# The world's own implementations for every data role: no role asks an LLM unless a test says so.
NO_LLM = {
    "decomposer": "world",
    "subtask_filter": "exact",
    "teacher": "simulated",
    "final_judge": "none",
    "step_judge_check": "none",
    "rewriter": "none",
    "paraphraser": "template",
}


def small_config(**cost_section):
    config = small_study_config()
    config["cost"] = cost_section
    config["backends"] = {**config.get("backends", {}), **NO_LLM}
    load_recipes(config, ROOT)
    validate(config, str(ROOT / "config" / "schema.yaml"), set_default=True)
    return config


# The llm section's roles (llm.roles.<role>: endpoint, model, sampling) as the llm pipeline defines
# them; a role asks an LLM where backends.<role> is "llm".
LLM = {
    "endpoints": {
        "openai": {"backend": "openai", "base_url": "https://api.openai.com/v1"},
        "local": {"backend": "vllm", "settings": {"model": "/models/llama"}},
    },
    "roles": {
        "decomposer": {"endpoint": "openai", "model": "gpt-4o-mini", "temperature": 0, "max_tokens": 1000},
        "teacher": {"endpoint": "openai", "model": "teacher", "temperature": 1, "max_tokens": 500},
        "step_judge": {"endpoint": "openai", "model": "gpt-4o-mini", "temperature": 0, "max_tokens": 50},
        "rewriter": {"endpoint": "openai", "model": "teacher", "temperature": 0, "max_tokens": 40},
        "paraphraser": {"endpoint": "openai", "model": "gpt-4o-mini", "temperature": 0.7, "max_tokens": 50},
    },
}


def with_llm(config):
    """``config`` with the decomposer, teacher, rewriter and step judge check asking an LLM (the
    paraphraser does not: its backend stays the template one)."""
    llm = config["llm"]  # the schema's defaults (cache, simulated endpoint and roles) stay
    config["llm"] = {
        **llm,
        "endpoints": {**llm["endpoints"], **LLM["endpoints"]},
        "roles": {**llm["roles"], **LLM["roles"]},
    }
    config["backends"].update(decomposer="llm", teacher="llm", rewriter="llm", step_judge_check="llm")
    config["teachers"]["main"]["model"] = "gpt-4o-mini"
    config["teachers"]["weak"]["model"] = "llama"
    return config


def test_the_config_check_refuses_an_estimate_above_the_limit_naming_both():
    config = with_llm(small_config(limit_usd=1.0, prices={"gpt-4o-mini": {"prompt": 100, "completion": 100}}))
    with pytest.raises(ConfigError, match=r"cost.prices: no price for model\(s\) \['llama'\]"):
        check_config(config)
    config["cost"]["prices"]["llama"] = {"prompt": 0, "completion": 0}
    calls = {(c.role, c.teacher): c for c in estimated_calls(config)}
    # 120 hard tasks of the small config, 3 subtasks each, 3 samples: 1440 teacher requests.
    assert calls["decomposer", ""].requests == 120 and calls["decomposer", ""].completion_tokens == 120 * 1000
    assert calls["teacher", "main"].requests == 1440 and calls["teacher", "main"].model == "gpt-4o-mini"
    assert calls["teacher", "weak"].model == "llama"
    assert calls["step_judge", "weak"].requests == 1440 and calls["step_judge", "weak"].completion_tokens == 1440 * 50
    assert calls["rewriter", "weak"].model == "llama" and calls["rewriter", "weak"].completion_tokens == 480 * 40
    assert {role for role, _ in calls} == {"decomposer", "teacher", "rewriter", "step_judge"}  # no paraphraser
    total = cost.total_usd(calls.values(), cost.price_table(config["cost"]))
    assert total > 1.0
    with pytest.raises(
        ConfigError, match=rf"cost.limit_usd: the dry-run estimate is \${total:,.2f} .* limit of \$1.00"
    ):
        check_config(config)
    config["cost"]["limit_usd"] = math.ceil(total)
    check_config(config)  # within the limit: starts


def test_the_estimate_counts_the_converters_requests_from_limits_and_local_files(tmp_path):
    config = with_llm(small_config(prices={"gpt-4o-mini": {"prompt": 1, "completion": 1}}))
    assert "converter" not in {c.role for c in estimated_calls(config)}  # no benchmark is converted
    sat = tmp_path / "sat-math.jsonl"
    sat.write_text("".join(f'{{"question": "q{i}", "label": "A"}}\n' for i in range(7)))
    config["evaluation"]["benchmarks"] = {
        "sat": {"source": str(sat), "label": "SAT", "convert": "open_questions", "split": "test"},
        "gaokao": {"source": "some/hub-id", "label": "Gaokao", "convert": "translate_en", "limit": 5, "split": "test"},
        "math": {"source": "HuggingFaceH4/MATH-500", "label": "MATH", "split": "test"},
    }
    config["llm"]["roles"]["converter"] = {
        "endpoint": "openai",
        "model": "gpt-4o-mini",
        "temperature": 0,
        "max_tokens": 300,
    }
    (converter,) = [c for c in estimated_calls(config) if c.role == "converter"]
    assert (converter.requests, converter.completion_tokens, converter.model) == (7 + 5, 12 * 300, "gpt-4o-mini")
    del config["evaluation"]["benchmarks"]["gaokao"]["limit"]  # a hub source of unknown size
    with pytest.raises(ConfigError, match=r"evaluation.benchmarks.gaokao.limit: the estimate needs the size"):
        estimated_calls(config)


def test_without_an_llm_role_nothing_is_estimated_and_a_limit_passes():
    config = small_config(limit_usd=0)
    assert estimated_calls(config) == []
    check_config(config)


def test_guiding_estimate_prints_the_default_configs_estimate(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["estimate", "--configfile", str(ROOT / "config" / "config.yaml")])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    # The embedded default asks the simulated endpoint, whose models are priced at zero.
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert total.split()[-1] == "$0.00" and int(total.split()[1].replace(",", "")) > 0
    assert "cost.limit_usd: none" in out


def request(template: str, item: str, model: str = "gpt-4o-mini") -> ChatRequest:
    return ChatRequest.build(
        endpoint="https://api.example/v1",
        model=model,
        messages=[{"role": "user", "content": f"{template} {item}"}],
        sampling=Sampling(seed=1),
        template=template,
        item_id=item,
    )


def test_the_cost_table_bills_the_runs_requests_from_the_cache_rows(tmp_path):
    cache_path = tmp_path / "cache" / "responses.db"
    solve = [request("solve/v1", f"t{i}") for i in range(3)]
    judge = request("judge_final.v1", "t0", model="judge-model")
    decompose = request("decompose/v1", "t0")
    convert = request("convert/v1", "t0")
    unanswered = request("solve/v1", "t9")
    other_run = request("solve/v1", "other")  # in the cache but not this run's: not billed
    with ResponseCache(cache_path) as cache:
        for i, r in enumerate(solve):
            cache.put(r, Completion("x", "stop", 100 + i, 10))
        cache.put(judge, Completion("1", "stop", 50, 1))
        cache.put(decompose, Completion("...", "length", 1000, 400))
        cache.put(convert, Completion("...", "stop", 7, 3))
        cache.put(other_run, Completion("x", "stop", 999, 999))
        cache.record_failures([(unanswered, "HTTP 500", 6)])  # failed within the budget: never paid
    manifests = tmp_path / "requests"
    manifests.mkdir()
    cost.append_to_manifest(manifests / "samples-main.jsonl", [*solve, unanswered], teacher="main")
    cost.append_to_manifest(manifests / "judged-main.jsonl", [judge, solve[0]], teacher="main")  # solve[0] again
    cost.append_to_manifest(manifests / "decomposed.jsonl", [decompose, convert])
    paths = sorted(str(p) for p in manifests.iterdir())
    out = {ext: str(tmp_path / f"costs.{ext}") for ext in ("csv", "md", "provenance.json")}
    prices = {"gpt-4o-mini": {"prompt": 0.15, "completion": 0.6}, "judge-model": {"prompt": 1.0, "completion": 2.0}}
    costs_table(
        requests=paths,
        csv=out["csv"],
        md=out["md"],
        provenance_json=out["provenance.json"],
        prices=prices,
        response_cache=str(cache_path),
    )
    df = pd.read_csv(out["csv"], keep_default_na=False)
    rows = {(r.role, r.teacher): r for r in df.itertuples()}
    assert list(df.role) == ["decomposer", "teacher", "final_judge", "other:convert", "unanswered", "total"]
    assert rows["teacher", "main"].requests == 3 and rows["teacher", "main"].prompt_tokens == 303  # solve[0] once
    assert rows["teacher", "main"].usd == pytest.approx((303 * 0.15 + 30 * 0.6) / 1e6, abs=1e-8)
    assert rows["final_judge", "main"].usd == pytest.approx((50 * 1.0 + 1 * 2.0) / 1e6, abs=1e-8)
    assert rows["decomposer", ""].completion_tokens == 400  # a truncated answer was paid for too
    assert rows["unanswered", "main"].requests == 1 and rows["unanswered", "main"].unanswered == 1
    total = rows["total", ""]
    assert total.requests == 7 and total.prompt_tokens == 303 + 50 + 1000 + 7
    assert total.usd == pytest.approx(df.usd[:-1].sum(), abs=1e-8)
    provenance = json.loads(Path(out["provenance.json"]).read_text())
    assert [i["path"] for i in provenance["inputs"]] == paths
    assert "# LLM cost" in Path(out["md"]).read_text()


def test_guiding_estimate_prints_each_role_and_fails_above_the_limit(monkeypatch, capsys):
    from guiding import estimate

    config = with_llm(small_config(limit_usd=1.0, prices={"gpt-4o-mini": {"prompt": 100, "completion": 100}}))
    monkeypatch.setattr(estimate, "load_config", lambda *args, **kwargs: config)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["estimate", "--configfile", "any.yaml"])
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    lines = {line.split()[0] + " " + line.split()[1]: line for line in out.splitlines() if line.startswith("teacher")}
    assert "1,440" in lines["teacher main"] and "gpt-4o-mini" in lines["teacher main"]
    assert "unpriced" in lines["teacher weak"]  # llama has no price
    assert "no price in cost.prices for: llama" in out and "cannot be checked" in out
    config["cost"]["prices"]["llama"] = {"prompt": 0, "completion": 0}
    with pytest.raises(SystemExit) as exit_:
        cli.main(["estimate", "--configfile", "any.yaml"])
    assert exit_.value.code == 1 and "is ABOVE cost.limit_usd $1.00" in capsys.readouterr().out
    config["cost"]["limit_usd"] = 1e6
    with pytest.raises(SystemExit) as exit_:
        cli.main(["estimate", "--configfile", "any.yaml"])
    assert exit_.value.code == 0 and "is within cost.limit_usd" in capsys.readouterr().out


def test_the_embedded_defaults_simulated_models_are_priced_at_zero():
    config = load_recipes(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), ROOT)
    validate(config, str(ROOT / "config" / "schema.yaml"), set_default=True)
    # The llm roles of the embedded default: every role on the simulated endpoint, a teacher
    # sending its own name as the model.
    names = {"decomposer": "decomposer", "subtask_filter": "filter", "teacher": "teacher"}
    names |= {"final_judge": "judge", "step_judge": "judge", "paraphraser": "paraphraser", "rewriter": "teacher"}
    assert {role: spec["model"] for role, spec in config["llm"]["roles"].items()} == names
    calls = estimated_calls(config)
    assert {c.role for c in calls} == set(names) and {c.teacher for c in calls if c.role == "teacher"} == {
        "main",
        "mid",
        "weak",
    }
    prices = cost.price_table(config["cost"])
    assert cost.unpriced_models(calls, prices) == [] and cost.total_usd(calls, prices) == 0
    config["cost"]["limit_usd"] = 0
    check_config(config)  # a zero limit admits the free simulated run


def test_a_hub_pool_is_counted_by_its_sources_limits_and_refused_without_them():
    price = {"prompt": 1, "completion": 1}
    config = small_config(limit_usd=1e9, prices={"gpt-4o-mini": price, "llama": price})
    config["backends"]["task_source"] = "hub"
    config["evaluation"]["benchmarks"] = {"math500": {"source": "math500.jsonl", "label": "MATH", "split": "test"}}
    config["training"]["stage1_data"] = {"sources": [{"source": "easy.jsonl"}], "ngram": 0}
    prefilter = {"reference_tokens": {"chars_per_token": 4, "min_tokens": 400, "two_up_to": 1000, "three_up_to": 1600}}
    config["hub_tasks"] = {
        "sources": [{"source": "a.jsonl", "limit": 70}, {"source": "b.jsonl"}],
        "prefilter": prefilter,
    }
    with_llm(config)
    with pytest.raises(ConfigError, match="hub_tasks.sources: the estimate needs every source's limit"):
        check_config(config)
    config["hub_tasks"]["sources"][1]["limit"] = 30
    check_config(config)
    decomposer = next(c for c in estimated_calls(config) if c.role == "decomposer")
    assert decomposer.requests == 100  # 70 + 30 hard tasks
