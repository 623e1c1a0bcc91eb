"""The one place where a mode's implementations are plugged into the pipeline's seams.

Each role is a seam (a small interface in ``<stage>/seams.py``); ``config["backends"]`` picks
one implementation per role by name. Implementations are imported only when created, so the
mode-neutral modules never import the synthetic world or a paper-mode client.
"""

from __future__ import annotations

import importlib

# role -> backend name -> "module:class". The embedded default's names are the schema defaults.
IMPLEMENTATIONS: dict[str, dict[str, str]] = {
    "task_source": {
        "world": "guiding.tasks.embedded:WorldTaskSource",
        "hub": "guiding.tasks.sources:HubTaskSource",
        "released": "guiding.tasks.released:ReleasedTaskSource",  # the imported released hard pairs
    },
    # "llm": the same role asked of a model through the cached generation interface (guiding.llm),
    # with the endpoint and sampling of config llm.roles.<role>.
    "decomposer": {"world": "guiding.tasks.embedded:ChainDecomposer", "llm": "guiding.tasks.llm:LLMDecomposer"},
    "subtask_filter": {
        "exact": "guiding.tasks.embedded:ExactSubtaskFilter",
        "llm": "guiding.tasks.llm:LLMSubtaskFilter",
    },
    "teacher": {"simulated": "guiding.teachers.embedded:SimulatedTeacher", "llm": "guiding.teachers.llm:LLMTeacher"},
    "step_judge": {"exact": "guiding.judging.embedded:ExactStepJudge", "llm": "guiding.judging.llm:LLMStepJudge"},
    "final_judge": {"llm": "guiding.judging.llm:LLMFinalJudge"},
    "rewriter": {"llm": "guiding.judging.llm:LLMRewriter"},
    "paraphraser": {
        "template": "guiding.supervision.embedded:TemplateParaphraser",
        "llm": "guiding.supervision.llm:LLMParaphraser",
        "released": "guiding.supervision.released:ReleasedParaphraser",  # the authors' paraphrases
    },
    "student_base": {
        "tiny": "guiding.student.embedded:TinyStudentBase",
        "pretrained": "guiding.student.pretrained:PretrainedStudentBase",
    },
    "generator": {
        "transformers": "guiding.evaluation.generation:TransformersGenerator",
        "vllm": "guiding.evaluation.generation:VLLMGenerator",
    },
}


def create(role: str, backend: str, **settings):
    """An instance of ``role``'s implementation ``backend``, built from its config ``settings``."""
    try:
        target = IMPLEMENTATIONS[role][backend]
    except KeyError:
        known = sorted(IMPLEMENTATIONS.get(role, {}))
        raise ValueError(f"backends.{role}: no implementation {backend!r} (known: {known})") from None
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(**settings)
