"""An example of a learner brought by the user: it "learns" one number in seconds.

The echelon base-stock rule (:class:`~hmarl_bench.baselines.EchelonBaseStockFree`) orders
every node up to a level; its untuned levels cover the mean demand of each node's cover
window plus safety stock. This learner scales all of them by one multiplier and keeps the
multiplier with the lowest mean total cost on the validation seeds: a grid search, but
shaped like any learner of the benchmark. The harness then scores its controller on the
held-out evaluation seeds exactly as it scores PPO or a rule.

Name it in a benchmark config by its file (a path relative to the config's folder)::

    [[algos]]
    learner = "../experiments/learners/example_learner.py:ExampleLearner"
    label = "example"
    options = { multipliers = [0.8, 1.0, 1.2] }   # optional: the grid to search

or by module (``experiments.learners.example_learner:ExampleLearner``) when the
project root is on the Python path.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from hmarl_bench.baselines import EchelonBaseStockFree
from hmarl_bench.baselines.echelon import echelon_defaults
from hmarl_bench.config import Scenario
from hmarl_bench.evaluation import total_costs
from hmarl_bench.learn.api import LearnerTask, Trained

#: The multipliers searched unless the entry's options give others.
MULTIPLIERS = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5)


def scaled_rule(scenario: Scenario, multiplier: float) -> EchelonBaseStockFree:
    """The echelon base-stock rule with every untuned level times ``multiplier``."""
    levels = echelon_defaults(scenario)
    return EchelonBaseStockFree(
        store_order_up_to=multiplier * levels["store_reorder_point"],
        warehouse_order_up_to=multiplier * levels["warehouse_reorder_point"],
    )


class ExampleLearner:
    """Search one multiplier of the echelon base-stock levels on the validation seeds."""

    def check(self, task: LearnerTask) -> None:
        """Called before any cell runs: refuse a bad grid early (ValueError)."""
        multipliers(task.options)

    def train(self, task: LearnerTask) -> Trained:
        start = time.perf_counter()
        rows: list[dict[str, Any]] = []
        for step, multiplier in enumerate(multipliers(task.options), start=1):
            rule = scaled_rule(task.scenario, multiplier)
            cost = float(total_costs(task.scenario, rule, task.validation_seeds).mean())
            rows.append({"timesteps": step, "validation_cost": cost, "multiplier": multiplier})
        curve = pd.DataFrame(rows)
        best = float(curve["multiplier"].iloc[int(np.argmin(curve["validation_cost"]))])
        return Trained(
            controller=scaled_rule(task.scenario, best),
            info={"train_seconds": time.perf_counter() - start, "multiplier": best},
            learning_curve=curve,
            # the same multiplier on another scenario's own levels (the generalization rows)
            transfer=lambda target: scaled_rule(target, best),
        )


def multipliers(options: Any) -> tuple[float, ...]:
    """The grid: ``options["multipliers"]``, positive numbers, or :data:`MULTIPLIERS`."""
    values = options.get("multipliers", MULTIPLIERS)
    if not values or not all(isinstance(v, int | float) and v > 0 for v in values):
        raise ValueError(f"multipliers must be a non-empty list of positive numbers, got {values}")
    return tuple(float(v) for v in values)
