"""Generalization rows: a learner trained on one scenario, run unchanged on the others.

On the benchmark's generalization scenario (``[generalization] train_scenario``) a learner
cell also runs its trained policy on every other scenario of the benchmark, on the same
evaluation seeds: :func:`transfer_rows`, from the learner's ``Trained.transfer``
(:mod:`hmarl_bench.learn.api`), which gives the policy's controller on a target scenario,
or ``None`` where it cannot run there (that target is skipped). :func:`transfers_frame`
gathers the rows of stored cells for the generalization table
(:mod:`hmarl_bench.harness.generalization`).

What transfers is the policy, not its meaning: the store policy's observation is
normalized by each store's own scales and the warehouse's seed observation is aggregates
over the stores, so their shapes do not depend on the store count, but the warehouse's
order sizes stay 0 / 500 / 1000 / 1500 units although three stores draw 30% more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import KPI_COLUMNS, ChainController, evaluate
from hmarl_bench.harness.traces import rows_of
from hmarl_bench.learn.system_reward import system_reward

__all__ = ["transfer_rows", "transfers_frame"]


def transfer_rows(
    transfer: Callable[[Scenario], ChainController | None],
    targets: tuple[str, ...],
    seeds: tuple[int, ...],
) -> list[dict[str, Any]]:
    """The trained policy on each of ``targets`` (scenario names or paths): one row per
    (target scenario, evaluation seed) with the KPIs and the system reward."""
    rows = []
    for name in targets:
        target = load_scenario(name)
        controller = transfer(target)
        if controller is None:  # e.g. another observation size there
            continue
        frame = evaluate(target, controller, seeds, keep_reports=True)
        frame["system_reward"] = system_reward(frame.attrs.pop("reports"), target)
        frame.insert(0, "target_scenario", target.name)
        rows += rows_of(frame[["target_scenario", "seed", *KPI_COLUMNS, "system_reward"]])
    return rows


def transfers_frame(results: list[dict[str, Any]]) -> pd.DataFrame:
    """The ``transfer`` rows of stored cell results, with their policy and training seed."""
    rows = [
        {
            "train_scenario": r["scenario"],
            "policy": r["policy"],
            "training_seed": r["training_seed"],
            **row,
        }
        for r in results
        for row in r.get("transfer", [])
    ]
    return pd.DataFrame(rows)
