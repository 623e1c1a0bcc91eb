"""The student: tokenizer, tiny model, SFT with TRL (completion-only loss, resume), evaluation."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from conftest import ROOT  # noqa: E402
from transformers import AutoTokenizer, TrainerCallback  # noqa: E402

from guiding.core.gpus import GPUPreflightError, preflight  # noqa: E402
from guiding.evaluation.generation import Decoding, TransformersGenerator, generate_solutions  # noqa: E402
from guiding.evaluation.steps import generate_predictions, grade  # noqa: E402
from guiding.student.embedded import build_student_base, create_model, train_tokenizer  # noqa: E402
from guiding.student.pretrained import PretrainedStudentBase  # noqa: E402
from guiding.student.training import train_sft  # noqa: E402
from guiding.world.generate import generate_splits  # noqa: E402

ARCH = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=1,
    num_attention_heads=2,
    num_key_value_heads=2,
    max_position_embeddings=256,
    tie_word_embeddings=True,
)
RECIPE = dict(
    learning_rate=1e-3,
    num_train_epochs=1,
    per_device_train_batch_size=8,
    max_steps=4,
    save_steps=2,
    logging_steps=1,
    max_length=256,
    bf16=False,
    gradient_checkpointing=False,
    use_cpu=True,
    seed=0,
    disable_tqdm=True,
)


@pytest.fixture(scope="module")
def world():
    return generate_splits(0, {"train_easy": 64, "train_hard": 32, "eval_easy": 8, "eval_hard": 8}, [1, 2], [4, 5])


@pytest.fixture(scope="module")
def base(tmp_path_factory, world):
    path = tmp_path_factory.mktemp("base")
    texts = [f"{t['problem']}\n{t['solution']}" for t in world["train_easy"] + world["train_hard"]]
    build_student_base(texts, path, 300, ARCH, seed=0)
    return str(path)


def test_tokenizer_reads_digits_one_by_one_and_ends_assistant_turns_with_eos(base, world):
    tok = AutoTokenizer.from_pretrained(base)
    pieces = [tok.decode([i]) for i in tok("Let a = 1234.")["input_ids"]]
    assert [p.strip() for p in pieces if p.strip().isdigit()] == ["1", "2", "3", "4"]
    task = world["train_easy"][0]
    prompt = [{"role": "user", "content": task["problem"]}]
    full = prompt + [{"role": "assistant", "content": task["solution"]}]
    prompt_ids = tok.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)["input_ids"]
    full_ids = tok.apply_chat_template(full, tokenize=True)["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids  # completion-only loss masks exactly the prompt
    assert full_ids[-1] == tok.eos_token_id
    assert tok.decode(full_ids[len(prompt_ids) :], skip_special_tokens=True) == task["solution"]


class StopAtStep(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt("simulated crash")


def test_an_interrupted_training_resumes_from_its_last_checkpoint(base, world, tmp_path):
    out, scratch = tmp_path / "model", tmp_path / "scratch"
    with pytest.raises(KeyboardInterrupt):
        train_sft(base, world["train_easy"], out, RECIPE, scratch, threads=1, callbacks=[StopAtStep(3)])
    assert (scratch / "checkpoint-2").is_dir() and not out.exists()
    summary = train_sft(base, world["train_easy"], out, RECIPE, scratch, threads=1)
    assert summary["resumed_from"].endswith("checkpoint-2")
    assert summary["global_step"] == 4
    assert not scratch.exists()  # the finished model is the artifact; checkpoints are gone


def test_a_changed_recipe_does_not_resume_a_stale_checkpoint(base, world, tmp_path):
    out, scratch = tmp_path / "model", tmp_path / "scratch"
    with pytest.raises(KeyboardInterrupt):
        train_sft(base, world["train_easy"], out, RECIPE, scratch, threads=1, callbacks=[StopAtStep(3)])
    summary = train_sft(base, world["train_easy"], out, {**RECIPE, "learning_rate": 5e-4}, scratch, threads=1)
    assert summary["resumed_from"] is None and summary["global_step"] == 4


def test_a_changed_starting_model_at_the_same_path_does_not_resume_a_stale_checkpoint(base, world, tmp_path):
    # Stage 2 starts from results/models/stage1/seed<s> whatever stage 1 became: a retrained stage 1 at the
    # same path must not resume the checkpoints trained from the old one.
    start, out, scratch = tmp_path / "start", tmp_path / "model", tmp_path / "scratch"
    shutil.copytree(base, start)
    with pytest.raises(KeyboardInterrupt):
        train_sft(str(start), world["train_easy"], out, RECIPE, scratch, threads=1, callbacks=[StopAtStep(3)])
    shutil.rmtree(start)
    build_student_base([t["problem"] for t in world["train_hard"]], start, 300, ARCH, seed=1)
    summary = train_sft(str(start), world["train_easy"], out, RECIPE, scratch, threads=1)
    assert summary["resumed_from"] is None and summary["global_step"] == 4


def test_training_lowers_the_loss_and_evaluation_grades_generations(base, world, tmp_path):
    recipe = {**RECIPE, "max_steps": 30, "learning_rate": 3e-3}
    summary = train_sft(base, world["train_easy"], tmp_path / "m", recipe, tmp_path / "s", threads=1)
    losses = [h["loss"] for h in summary["log_history"] if "loss" in h]
    assert losses[-1] < losses[0] * 0.7
    tasks = world["eval_easy"]
    outputs = generate_solutions(
        str(tmp_path / "m"), [t["problem"] for t in tasks], Decoding(max_new_tokens=40), 4, threads=1, progress=False
    )
    assert len(outputs) == len(tasks) and all(isinstance(o, str) for o in outputs)
    graded, _ = grade(tasks, [{"task_id": t["id"], "output": o} for t, o in zip(tasks, outputs)])
    # Grading is by the boxed answer: a gold solution as "output" is right, a wrong box is not.
    gold, report = grade(tasks, [{"task_id": t["id"], "output": t["solution"]} for t in tasks])
    assert all(g["correct"] for g in gold) and report["correct"] == report["items"] == len(tasks)
    wrong, _ = grade(tasks[:1], [{"task_id": tasks[0]["id"], "output": "\\boxed{-999}"}])
    assert not wrong[0]["correct"] and len(graded) == len(tasks)


def weights(path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(Path(path) / "model.safetensors"))


def test_training_under_accelerate_launch_equals_training_in_process(base, world, tmp_path):
    """The paper's launch path (one process per GPU) on the CPU: the same model as in-process."""
    summary = train_sft(
        base,
        world["train_easy"],
        tmp_path / "launched",
        RECIPE,
        tmp_path / "s1",
        launcher=str(ROOT / "config" / "accelerate" / "cpu.yaml"),
    )
    assert summary["processes"] == 1 and summary["global_step"] == RECIPE["max_steps"]
    assert not (tmp_path / "s1").exists()  # scratch (checkpoints, the job file) removed by the main process
    train_sft(base, world["train_easy"], tmp_path / "inline", RECIPE, tmp_path / "s2")
    launched, inline = weights(tmp_path / "launched"), weights(tmp_path / "inline")
    assert launched.keys() == inline.keys()
    assert all(torch.equal(launched[k], inline[k]) for k in launched)


def test_a_failed_launch_fails_the_job_and_names_the_config(base, world, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("distributed_type: NOT_A_TYPE\n")
    with pytest.raises(RuntimeError, match="accelerate launch exited with"):
        train_sft(base, world["train_easy"], tmp_path / "m", RECIPE, tmp_path / "s", launcher=str(bad))
    assert not (tmp_path / "m" / "model.safetensors").exists()


def test_the_gpu_preflight_refuses_a_job_that_sees_fewer_gpus_than_it_asked_for(tmp_path):
    # As a scheduler would hide them: no GPU visible to this process.
    code = (
        "from guiding.core.gpus import preflight\n"
        "try:\n    preflight(2, 'train_stage1')\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("GPUPreflightError train_stage1 asked for 2 GPU(s)")
    assert "sees 0 (CUDA_VISIBLE_DEVICES='')" in out
    assert preflight(0) >= 0  # a CPU job: nothing to check
    with pytest.raises(GPUPreflightError):
        preflight(-1)


def test_a_generation_job_that_asks_for_a_gpu_it_lacks_stops_before_loading_anything(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(GPUPreflightError, match="generate_predictions asked for 1 GPU"):
        generate_predictions(
            model=str(tmp_path / "no-model"),
            tasks=str(tmp_path / "no-tasks.jsonl"),
            predictions=str(tmp_path / "p"),
            backend="transformers",
            generation={"max_new_tokens": 8, "batch_size": 2},
            gpu=1,
        )


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory, world):
    """A 'hub model' made here: a tiny Llama and a tokenizer with an EOS token and no template."""
    hub = tmp_path_factory.mktemp("hub")
    texts = [f"{t['problem']}\n{t['solution']}" for t in world["train_easy"]]
    tokenizer = train_tokenizer(texts, 300)
    tokenizer.chat_template = None
    create_model(tokenizer, ARCH, seed=0).save_pretrained(hub)
    tokenizer.save_pretrained(hub)
    out = tmp_path_factory.mktemp("pretrained-base")
    PretrainedStudentBase(str(hub), dtype="float32").build([], out)
    return str(out)


def test_the_pretrained_base_gets_one_plain_template_that_training_and_evaluation_share(pretrained, world):
    tok = AutoTokenizer.from_pretrained(pretrained)
    task = world["train_easy"][0]
    prompt = [{"role": "user", "content": task["problem"]}]
    text = tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    assert text == f"Problem:\n{task['problem']}\n\nSolution:\n"  # no untrained header tokens
    full = tok.apply_chat_template(prompt + [{"role": "assistant", "content": task["solution"]}], tokenize=False)
    assert full == text + task["solution"] + tok.eos_token
    from transformers import GenerationConfig

    assert tok.eos_token_id in GenerationConfig.from_pretrained(pretrained).eos_token_id


def test_sampled_decoding_is_seeded(pretrained, world):
    problems = [t["problem"] for t in world["eval_easy"][:4]]
    sampled = dict(max_new_tokens=12, batch_size=2, threads=1, temperature=1.0, top_p=0.9, top_k=50)
    first = TransformersGenerator(**sampled, seed=1).generate(pretrained, problems)
    assert TransformersGenerator(**sampled, seed=1).generate(pretrained, problems) == first
    assert TransformersGenerator(**sampled, seed=2).generate(pretrained, problems) != first
