"""The config as the workflow reads it: loading (``loading``), the cross-field checks (``checks``),
and, re-exported here, what the rules and tools derive from it: the study's design
(``guiding.design``), the cost estimate's inputs (``guiding.estimate_inputs``) and where a role's
job runs (``guiding.implementations``)."""

from ..config_values import ConfigError
from ..core.io import canonical
from ..design import (
    claimed_comparisons,
    evaluated_models,
    evaluation_seeds,
    findings_runs,
    replicate_seeds,
    sampled_decoding,
    set_size,
    set_specs,
    stage1_recipe,
    stage2_examples,
    stage2_recipe,
    stage2_runs,
    studied_sets,
)
from ..estimate_inputs import converted_benchmarks, estimated_calls, hard_pool_size, llm_role_settings
from ..implementations import runs_on_head_node
from .checks import check_config, check_keys, sft_config_fields, used_endpoints
from .loading import layered_config_files, load_config, load_recipes, names_whole_study

__all__ = [
    "ConfigError",
    "canonical",
    "check_config",
    "check_keys",
    "claimed_comparisons",
    "converted_benchmarks",
    "estimated_calls",
    "evaluated_models",
    "evaluation_seeds",
    "findings_runs",
    "hard_pool_size",
    "layered_config_files",
    "llm_role_settings",
    "load_config",
    "load_recipes",
    "names_whole_study",
    "replicate_seeds",
    "runs_on_head_node",
    "sampled_decoding",
    "set_size",
    "set_specs",
    "sft_config_fields",
    "stage1_recipe",
    "stage2_examples",
    "stage2_recipe",
    "stage2_runs",
    "studied_sets",
    "used_endpoints",
]
