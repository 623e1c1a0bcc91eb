"""The benchmark conversions through Snakemake: a multiple-choice source turned open and a Chinese
cloze source translated by the converter at an OpenAI-compatible endpoint (``guiding serve`` in
front of the scripted converter of conversion_backend.py), then read by prepare_benchmark."""

import json
import os
import subprocess

import pytest
import yaml
from conftest import ROOT, SMALL, small_study_command
from conversion_backend import CLOZE, MULTIPLE_CHOICE

from guiding import artifacts as A
from guiding.core.io import read_jsonl, write_jsonl
from guiding.llm import ResponseCache, cost
from guiding.llm.serve import ServeProcess

pytestmark = pytest.mark.workflow


def test_the_converted_benchmarks_are_artifacts_with_their_drops_counted_and_requests_listed(tmp_path):
    sat, gaokao = tmp_path / "data" / "sat-math.jsonl", tmp_path / "data" / "gaokao-mathcloze.jsonl"
    write_jsonl(sat, [{k: item[k] for k in ("question", "options", "label")} for item in MULTIPLE_CHOICE])
    write_jsonl(gaokao, [{k: item[k] for k in ("question", "answer")} for item in CLOZE])
    cache = tmp_path / "cache" / "responses.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(ROOT / "src"), env.get("PYTHONPATH", "")])
    with ServeProcess("--backend", "conversion_backend:ScriptedConverter", env=env) as server:
        config = yaml.safe_load(SMALL.read_text())
        config["llm"] = {
            "cache": str(cache),
            "endpoints": {  # the other roles keep the schema's simulated endpoint
                "simulated": {"backend": "simulated"},
                "served": {"backend": "openai", "base_url": server.base_url, "api_key_env": None},
            },
            "roles": {"converter": {"endpoint": "served", "model": "converter", "temperature": 0, "max_tokens": 256}},
        }
        config["evaluation"]["benchmarks"] = {
            "sat": {
                "source": str(sat),
                "label": "SAT",
                "columns": {"problem": "question", "answer": "label"},
                "options": "options",
                "convert": "open_questions",
            },
            "gaokao": {
                "source": str(gaokao),
                "label": "Gaokao",
                "columns": {"problem": "question"},
                "form": "multi_blank",
                "convert": "translate_en",
            },
        }
        configfile = tmp_path / "config.yaml"
        configfile.write_text(yaml.safe_dump(config))
        targets = [A.fill(A.BENCHMARK, bench=b) for b in ("sat", "gaokao")]
        cmd = small_study_command(tmp_path / "run", "--cores", "2", *targets, configfile=configfile)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        logs = "\n".join(p.read_text()[-1500:] for p in (tmp_path / "run" / "results" / "logs").rglob("*.log"))
        assert done.returncode == 0, done.stderr[-3000:] + logs
        asked = server.stats()["answered"]
    run = tmp_path / "run"

    sat_rows = read_jsonl(run / A.fill(A.BENCHMARK, bench="sat"))
    expected = [item["expect"] for item in MULTIPLE_CHOICE if isinstance(item["expect"], tuple)]
    assert [(r["problem"], r["answer"], r["form"]) for r in sat_rows] == [(*e, "plain") for e in expected]
    report = json.loads((run / A.fill(A.CONVERSION_REPORT, bench="sat")).read_text())
    assert report["dropped_by_reason"] == {
        "dropped_statements": 1,
        "options_left_in_question": 1,
        "several_correct_options": 1,
    }
    assert (report["asked"], report["kept"]) == (5, 4)

    gaokao_rows = read_jsonl(run / A.fill(A.BENCHMARK, bench="gaokao"))
    assert [(r["problem"], r["answer"], r["form"]) for r in gaokao_rows] == [
        (*item["expect"], "multi_blank") for item in CLOZE[:2]
    ]
    report = json.loads((run / A.fill(A.CONVERSION_REPORT, bench="gaokao")).read_text())
    assert report["dropped_by_reason"] == {"not_translated": 1} and report["asked"] == 3

    # Each conversion job listed what it asked: the cost table bills it under the converter's role.
    manifests = [str(run / A.fill(A.LLM_REQUESTS, job=f"convert_benchmark-{b}")) for b in ("sat", "gaokao")]
    listed = cost.read_manifests(manifests)
    with ResponseCache(cache) as responses:
        assert set(listed) == responses.keys() and len(listed) == asked == 8
    billed = cost.cost_rows(cost.used_requests(cache, listed), {})
    assert [(r["role"], r["requests"]) for r in billed] == [("converter", 8), ("total", 8)]
