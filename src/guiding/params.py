"""The params and inputs that the rules hand their jobs, built from the config alone.

``rules/common.smk`` makes one ``RuleParams(config)`` and the rule files call its methods (a method
that takes ``wildcards`` can be a rule's params or input function as it is). Every value here is
what a job's output depends on, so it is part of the job's params: a change reruns the job, and a
value that changes no output (a cache path, client settings) stays out. Dictionaries are
``canonical`` (keys sorted), so an edit that only reorders a config file reruns nothing.

Each role's settings are built per implementation named in ``backends.<role>``: an implementation
with no builder here is refused by name rather than given another implementation's settings.
"""

from __future__ import annotations

from pathlib import Path

from . import artifacts as A
from .core.datasets import is_local
from .core.io import canonical
from .design import evaluation_seeds, sampled_decoding, stage1_recipe, stage2_recipe, stage2_runs
from .implementations import llm_role
from .llm.cache import DEFAULT_CACHE
from .released.layout import data_files

# The config sections each table's provenance records (what its inputs were built with).
TEACHER_SECTIONS = ("mode", "backends", "world", "decomposition", "teachers", "sampling", "llm")
DATA_SECTIONS = (*TEACHER_SECTIONS, "sets")
RESULT_SECTIONS = (*DATA_SECTIONS, "student", "training", "extra_runs", "replicates", "evaluation")
# Of the llm section only what changes answers: the cache, replay and client settings do not.
LLM_ANSWER_KEYS = ("endpoints", "roles")
# The source keys that change a conversion (not the label, the answer form or drop_if_contains,
# which prepare_benchmark applies to the converted rows).
CONVERSION_KEYS = ("source", "subset", "split", "where", "columns", "options", "convert", "limit")
# What makes a simulated teacher's answers (``stands_for`` is a note for readers).
SIMULATED_TEACHER_KEYS = ("step_error", "error_style", "error_ops")


class NoParamsBuilder(ValueError):
    """``backends.<role>`` names an implementation that this module builds no settings for."""

    def __init__(self, role: str, implementation: str):
        super().__init__(
            f"backends.{role}: no params for implementation {implementation!r} (add its case to "
            f"guiding.params.RuleParams)"
        )


class RuleParams:
    """The params and input functions of the rules, for one config."""

    def __init__(self, config: dict):
        self.config = config
        self.backends = config["backends"]

    def _implementation(self, role: str, *known: str) -> str:
        implementation = self.backends[role]
        if implementation not in known:
            raise NoParamsBuilder(role, implementation)
        return implementation

    # --- shared -------------------------------------------------------------------------------

    def config_subset(self, *sections: str) -> dict:
        """Canonical copy of some config sections, for params and provenance records (a section the
        config does not have, such as paper mode's world, is left out)."""
        config = self.config
        subset = {section: config[section] for section in sections if section in config}
        if "llm" in subset:
            subset["llm"] = {k: config["llm"][k] for k in LLM_ANSWER_KEYS}
        return canonical(subset)

    def llm_role(self, role: str, model=None, endpoint=None, world=None) -> dict:
        """What a role's LLM answers depend on (guiding.llm.roles.RoleSpec): its endpoint's backend and
        settings, the model and the sampling. ``world`` holds what the in-process simulated endpoint
        needs to answer this role (the teachers' errors, the decomposition's settings); the cache path
        and client settings change no answer and stay out (run_step hands them to the job).
        """
        llm = self.config["llm"]
        spec = llm["roles"][role]
        name = endpoint or spec["endpoint"]
        where = llm["endpoints"][name]
        settings = dict(where["settings"])
        for key in ("base_url", "api_key_env"):
            if key in where:
                settings[key] = where[key]
        if where["backend"] == "simulated":
            settings.update(world or {})
        sampling = {k: spec[k] for k in ("temperature", "top_p", "max_tokens") if k in spec}
        # Only when set, so that the params (and reruns) of free-text roles stay as they were.
        reading = {}
        if where.get("structured_outputs", "none") != "none":
            reading["structured_outputs"] = where["structured_outputs"]
        if spec.get("allow_truncated", False):
            reading["allow_truncated"] = True
        return canonical(
            {
                "backend": where["backend"],
                "endpoint": name,
                "model": model or spec["model"],
                "settings": settings,
                **sampling,
                **reading,
            }
        )

    def response_cache_path(self) -> str:
        """The response cache (outside results/): the llm section's, else the default location."""
        return (self.config.get("llm") or {}).get("cache", DEFAULT_CACHE)

    # --- tasks --------------------------------------------------------------------------------

    def task_source_settings(self) -> dict:
        """The config section of the task source: the world's, or hub_tasks (sources and pre-filters)."""
        source = self._implementation("task_source", "world", "hub", "released")
        if source == "released":
            return {"pairs": self.released_hard_pairs()}
        return canonical(self.config[{"world": "world", "hub": "hub_tasks"}[source]])

    def task_source_files(self, wildcards=None) -> dict:
        """The hub source's local files, as inputs: editing one regenerates the tasks (a hub dataset
        is read by the job)."""
        if self.backends["task_source"] == "released":
            return {"source_files": [self.released_hard_pairs()]}
        if self.backends["task_source"] != "hub":
            return {}
        local = [s["source"] for s in self.config["hub_tasks"]["sources"] if is_local(s["source"])]
        return {"source_files": local} if local else {}

    def decomposition_settings(self) -> dict:
        """What changes the subtasks: the split rule and seed, and how subtasks are stated."""
        decomposition = self.config["decomposition"]
        settings = {"two_parts_up_to": decomposition["two_parts_up_to"], "seed": decomposition["seed"]}
        # Subtasks are stated like the world's tasks (shuffled or not).
        shuffle = self.config.get("world", {}).get("shuffle_definitions", False)
        if self._implementation("decomposer", "world", "llm") == "llm":
            return {**settings, "llm": self.llm_role("decomposer", world={"shuffle": shuffle})}
        return {**settings, "shuffle": shuffle}

    def subtask_filter_settings(self) -> dict:
        """What changes the filters' verdicts."""
        decomposition = self.config["decomposition"]
        if self._implementation("subtask_filter", "exact", "llm") == "llm":
            world = {"near_duplicate_fraction": decomposition["max_fraction"]}
            return {"min_steps": decomposition["min_steps"], "llm": self.llm_role("subtask_filter", world=world)}
        return {k: decomposition[k] for k in ("min_steps", "max_fraction")}

    # --- teachers and judging -----------------------------------------------------------------

    def simulated_teachers(self, *names: str) -> dict:
        """The simulated world's teachers by name: what makes their answers."""
        teachers = self.config["teachers"]
        return {name: {k: teachers[name][k] for k in SIMULATED_TEACHER_KEYS if k in teachers[name]} for name in names}

    def _teacher_llm(self, role: str, name: str) -> dict:
        """The LLM settings of ``role`` asked with teacher ``name``'s own model and endpoint."""
        teacher = self.config["teachers"][name]
        world = {"teachers": self.simulated_teachers(name)}
        return self.llm_role(role, teacher.get("model", name), teacher.get("endpoint"), world)

    def teacher_settings(self, wildcards) -> dict:
        """A teacher's settings that change its samples (``stands_for`` is a note for readers)."""
        if self._implementation("teacher", "simulated", "llm") == "llm":
            return {"llm": self._teacher_llm("teacher", wildcards.teacher)}
        return canonical(self.simulated_teachers(wildcards.teacher)[wildcards.teacher])

    def rewriter_settings(self, wildcards) -> dict | None:
        """The teacher that rewrites a reference where no sample is correct (None: the reference as it is)."""
        implementation = self._implementation("rewriter", "none", "llm")
        if implementation == "none":
            return None
        llm = self._teacher_llm("rewriter", wildcards.teacher)
        return {"backend": implementation, "settings": {"llm": llm, "seed": self.config["sampling"]["seed"]}}

    def second_opinions(self) -> dict:
        """The final-result judge and the second step judge stored beside the verdicts, where configured."""
        out = {}
        for role in ("final_judge", "step_judge_check"):
            implementation = self._implementation(role, "none", "exact", "llm")
            if implementation == "none":
                continue
            settings = (
                {"llm": self.llm_role(llm_role(role), world=self.judge_noise(role))} if implementation == "llm" else {}
            )
            out[role] = {"backend": implementation, "settings": settings}
        return canonical(out)

    def judge_noise(self, role: str) -> dict:
        """What the simulated endpoint's judge of ``role`` gets wrong on purpose (llm.simulated_judges):
        its per-verdict flip probability, passed only when not 0, so a noiseless judge keeps its keys.
        """
        flip = self.config["llm"]["simulated_judges"][role]
        return {f"{llm_role(role)}_flip": flip} if flip else {}

    # --- released data ------------------------------------------------------------------------

    def released_hard_pairs(self) -> str:
        """The imported released hard pairs: the released task source's pool."""
        return A.fill(A.PAIRS, teacher=self.config["released"]["pairs_teacher"], kind="hard")

    def released_outputs(self) -> dict:
        """The files that import_released writes: the pairs teacher's hard and subtask pairs, each weaker
        teacher's hard samples, judged samples and pairs, the paraphrases, the benchmarks, a report.
        """
        released = self.config["released"]
        weaker = sorted(released["weaker_sampling"])
        keys = [(released["pairs_teacher"], kind) for kind in A.KINDS] + [(teacher, "hard") for teacher in weaker]
        return {
            "pairs": [A.fill(A.PAIRS, teacher=t, kind=k) for t, k in keys],
            "pair_stats": [A.fill(A.PAIR_STATS, teacher=t, kind=k) for t, k in keys],
            "samples": [A.fill(A.SAMPLES, teacher=t, kind="hard") for t in weaker],
            "judged": [A.fill(A.JUDGED, teacher=t, kind="hard") for t in weaker],
            "paraphrases": A.RELEASED_PARAPHRASES,
            "test_sets": [A.fill(A.RELEASED_TEST, bench=b) for b in released["test_data"]],
            "report": A.RELEASED_REPORT,
        }

    def released_local_files(self) -> list[str]:
        """The files of the released data's local copy that the import reads (none without one, or
        without released pairs): its inputs, so that editing one reruns the import."""
        released = self.config.get("released") or {}
        if self.backends.get("pairs_source") != "released" or not released.get("local_dir"):
            return []
        root = Path(released["local_dir"])
        found = data_files(root, "task_sol_pairs", released["pair_pools"])
        found += data_files(root, "weaker_sampling", list(released["weaker_sampling"].values()))
        found += data_files(root, "paraphrase", released["paraphrase_pools"])
        found += [root / "test_data" / name for name in released["test_data"].values()]
        return sorted({str(p) for p in found if p.is_file()})

    # --- supervision --------------------------------------------------------------------------

    def paraphraser_settings(self) -> dict:
        if self._implementation("paraphraser", "template", "llm", "released") == "llm":
            return {"llm": self.llm_role("paraphraser")}
        return {}

    def error_rate_set_sizes(self, wildcards) -> dict:
        """The sizes a set depends on: a subtask set is drawn from the subtasks of the selected hard tasks."""
        sizes = {"hard_size": self.config["sets"]["hard_size"]}
        if wildcards.kind == "subtask":
            sizes["subtask_size"] = self.config["sets"]["subtask_size"]
        return sizes

    # --- student ------------------------------------------------------------------------------

    def stage1_recipe(self, wildcards) -> dict:
        """The stage-1 recipe at the replicate's seed."""
        return canonical(stage1_recipe(self.config, wildcards.seed))

    def stage2_recipe(self, wildcards) -> dict:
        """The stage-2 recipe with the run's overrides (e.g. more epochs), at the replicate's seed.
        A variance study may shift stage 2's seed away from stage 1's (``replicates.stage2_seed_offset``,
        bench/variance_study.py), to tell the stage-1 draw from the stage-2 draw; studies add 0."""
        seed = int(wildcards.seed) + self.config["replicates"].get("stage2_seed_offset", 0)
        return canonical(stage2_recipe(stage2_runs(self.config), wildcards.run, seed))

    # --- evaluation ---------------------------------------------------------------------------

    def benchmark_spec(self, wildcards) -> dict:
        return canonical(self.config["evaluation"]["benchmarks"][wildcards.bench])

    def benchmark_source(self, wildcards) -> dict:
        """A world benchmark reads its split of the task source; a converted one its conversion's rows;
        a local file is an input too (editing it rebuilds the benchmark); a hub dataset is read by the job.
        """
        spec = self.config["evaluation"]["benchmarks"][wildcards.bench]
        if spec["source"] == A.WORLD_SOURCE:
            return {"tasks": A.fill(A.TASKS, split=wildcards.bench)}
        if spec.get("convert"):
            return {"source_file": A.fill(A.CONVERTED_BENCHMARK, bench=wildcards.bench)}
        return self.conversion_source(wildcards)

    def conversion_source(self, wildcards) -> dict:
        """The benchmark's source as an input where it is a local file."""
        source = self.config["evaluation"]["benchmarks"][wildcards.bench]["source"]
        return {"source_file": source} if is_local(source) else {}

    def conversion_spec(self, wildcards) -> dict:
        spec = self.config["evaluation"]["benchmarks"][wildcards.bench]
        return canonical({k: spec[k] for k in CONVERSION_KEYS if k in spec})

    def generation_settings(self) -> dict:
        """What changes a model's answers: decoding and batching (not the CI level of the tables)."""
        evaluation = self.config["evaluation"]
        settings = {"max_new_tokens": evaluation["max_new_tokens"], "batch_size": evaluation["batch_size"]}
        # Greedy decoding ignores the sampling settings: they stay out of its params. Sampled
        # decoding runs once per evaluation seed, all in one job (the model is loaded once).
        if sampled_decoding(self.config):
            settings.update({k: evaluation[k] for k in ("temperature", "top_p", "top_k")})
            settings["seeds"] = evaluation_seeds(self.config)
        return settings
