"""The one place where a mode's implementations are plugged into the pipeline's seams, and what
the workflow needs to know of each role.

Each role is a seam (a small interface in ``<stage>/seams.py``); ``config["backends"]`` picks
one implementation per role by name (the config key keeps its name; in the code, "backend" is
the kind of an LLM endpoint, ``llm.endpoints.<name>.backend``, see ``guiding.llm.backends``).
Implementations are imported only when created, so the mode-neutral modules never import the
synthetic world or a paper-mode client.
"""

from __future__ import annotations

import importlib

from .artifacts import CONVERTER

# role -> implementation name -> "module:class". The embedded default's names are the schema defaults.
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


def create(role: str, implementation: str, **settings):
    """An instance of ``role``'s implementation named ``implementation``, built from its config ``settings``."""
    try:
        target = IMPLEMENTATIONS[role][implementation]
    except KeyError:
        known = sorted(IMPLEMENTATIONS.get(role, {}))
        raise ValueError(f"backends.{role}: no implementation {implementation!r} (known: {known})") from None
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)(**settings)


# Switch (a backends key) -> the llm.roles entry it asks when set to "llm", where the two names
# differ: the step judge's check asks the step judge's model. Every other switch asks its own role.
LLM_ROLE_OF = {"step_judge_check": "step_judge"}
# Roles with no implementation but an LLM (no backends key): they ask llm.roles.<role> where used.
LLM_ONLY_ROLES = (CONVERTER,)
TEACHERS_OWN_MODEL = ("teacher", "rewriter")  # roles that send each teacher's own model
# Roles whose work the released pairs replace (backends.pairs_source released): never asked.
RELEASED_REPLACES = ("decomposer", "subtask_filter", "teacher", "step_judge", "final_judge", "rewriter")
# Implementations and endpoint backends that generate with a model on the job's own machine.
LOCAL_MODEL_BACKENDS = frozenset({"transformers", "vllm"})
# Endpoint backends where the synthetic world answers: their teachers need its errors.
SIMULATED_BACKENDS = ("simulated",)


def llm_role(switch: str) -> str:
    """The llm.roles entry that the switch ``backends.<switch>: llm`` asks."""
    return LLM_ROLE_OF.get(switch, switch)


def llm_switches(role: str) -> tuple[str, ...]:
    """The backends keys that make ``role`` ask an LLM (value "llm"): the inverse of ``llm_role``."""
    return (role, *(switch for switch, of in LLM_ROLE_OF.items() if of == role))


def runs_on_head_node(config: dict, *roles: str) -> bool:
    """Whether a job of these roles is a `localrule` under a cluster executor: compute nodes get the
    work that wants their GPUs (generation by a local model; training is never local); the head node
    gets calls to remote APIs and downloads (compute nodes are often offline) and bookkeeping of
    seconds. An llm role runs where its endpoint's backend does (its llm.roles endpoint)."""
    return all(_what_runs(config, role) not in LOCAL_MODEL_BACKENDS for role in roles)


def _what_runs(config: dict, role: str) -> str:
    """The implementation that does ``role``'s work, or for an LLM role its endpoint's backend."""
    if role in LLM_ONLY_ROLES:  # no backends switch: an LLM role where configured, else nothing to run
        if role not in config["llm"]["roles"]:
            return "none"
        implementation = "llm"
    else:
        implementation = config["backends"][role]
    if implementation != "llm":
        return implementation
    endpoint = config["llm"]["roles"][llm_role(role)]["endpoint"]
    return config["llm"]["endpoints"][endpoint]["backend"]
