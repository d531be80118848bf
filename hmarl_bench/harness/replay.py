"""A stored rule cell's policy scored again on other episodes, at report time.

A rule is deterministic given its parameters and the episode, and a baseline cell stores the
parameters its tuning chose (``info["tuned_params"]``), so the report can rebuild the rule
and score it on episodes the cell never ran: the benchmark's validation episodes, on which
learners choose their checkpoints. :func:`validation_costs` does that for each scenario's
reference, so that "seconds until the learner's validation cost came within 1% of the
reference" compares two costs on the same episodes (``tables.time_to_reference``).

Only rules that rebuild cheaply and exactly are replayed: the searched families, the
grid-tuned and untuned rules, and ``random`` (from the benchmark's baseline seed); never the
MILP rules, whose episodes take minutes. A rebuilt rule must first reproduce its cell's
stored cost on two of its evaluation episodes; otherwise (code changed since the cell ran)
it is not replayed, and the caller falls back to the reference's tuning cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hmarl_bench.baselines.classic import RandomPolicy
from hmarl_bench.baselines.registry import BASELINES, MILP_BASELINES, SEARCHED
from hmarl_bench.config import load_scenario
from hmarl_bench.evaluation import ChainController, evaluate

__all__ = ["rebuild_rule", "validation_costs"]

#: Evaluation episodes a rebuilt rule must reproduce before it is replayed.
CHECK_EPISODES = 2


def rebuild_rule(
    name: str, tuned_params: Mapping[str, Any] | None, baseline_seed: int
) -> ChainController | None:
    """The rule ``name`` with the parameters its cell stored; ``None`` for a rule that is not
    rebuilt (a MILP rule, an unknown name, a tuned rule without its parameters)."""
    if name in MILP_BASELINES or name not in BASELINES:
        return None
    if name == "random":
        return RandomPolicy(baseline_seed)
    if name in SEARCHED:
        return SEARCHED[name](**tuned_params) if tuned_params else None
    build = BASELINES[name]
    rule_class = getattr(build, "rule_class", None)
    if rule_class is None:
        return None
    if getattr(build, "grid_tuned", False):
        return rule_class(**tuned_params) if tuned_params else None
    return rule_class()


def validation_costs(
    references: Mapping[str, str],
    rule_params: Mapping[tuple[str, str], Mapping[str, Any] | None],
    per_seed: pd.DataFrame,
    validation_seeds: Sequence[int],
    baseline_seed: int,
) -> dict[str, float]:
    """Each scenario's reference (``references``: scenario -> rule name) scored on
    ``validation_seeds``: its mean total cost, for the scenarios whose reference rebuilds
    (:func:`rebuild_rule`) and reproduces its stored evaluation rows in ``per_seed``."""
    out: dict[str, float] = {}
    if not validation_seeds:
        return out
    for scenario_name, name in references.items():
        key = (scenario_name, name)
        if key not in rule_params:
            continue
        rows = per_seed[(per_seed["scenario"] == scenario_name) & (per_seed["policy"] == name)]
        stored = rows.sort_values("seed").head(CHECK_EPISODES)
        rule = rebuild_rule(name, rule_params[key], baseline_seed)
        if rule is None or stored.empty:
            continue
        scenario = load_scenario(scenario_name)
        check = evaluate(scenario, rule, [int(s) for s in stored["seed"]])
        if not np.array_equal(
            check["total_cost"].to_numpy(float), stored["total_cost"].to_numpy(float)
        ):
            continue
        rule = rebuild_rule(name, rule_params[key], baseline_seed)  # fresh state
        frame = evaluate(scenario, rule, [int(s) for s in validation_seeds])
        out[scenario_name] = float(frame["total_cost"].mean())
    return out
