"""Hierarchical learner cells, and running trained policies on other scenarios.

A learner cell whose algo entry names ``learners`` (``warehouse``, ``stores+warehouse``, ...)
trains them with :func:`~hmarl_bench.learn.rounds.train_rounds` (rules for the roles that do not
learn) and is scored like the store learner: the last round's chain on every evaluation
seed, its daily trace, and a learning curve of validation total cost. The curve runs over
the learners one after the other (stores, then warehouse, ... round after round), so its
``timesteps`` are cumulative over the cell and its ``learner`` / ``round`` columns say
which model was training. Each round's KPIs and system-level reward go to
``info["rounds"]``.

A residual learner cell (``learners = "residual"``: corrections to the tuned reference rule)
is handed over to :func:`hmarl_bench.harness.residual_cells.run_residual`.

On the benchmark's generalization scenario a learner cell also runs its trained policies,
unchanged, on every other scenario of the benchmark on the same evaluation seeds
(``transfer`` rows). Spaces allow it: the store policy acts per store on a 7-value
observation normalized by each store's own scales, so it runs for any number of stores;
the warehouse's 6 values are aggregates over the stores (sum of forecasts, mean and lowest
store stock, mean service) normalized by the target scenario's own scales, so its shape
does not depend on the store count either. What does not transfer is meaning: order sizes
stay 0 / 500 / 1000 / 1500 units although three stores draw 30% more. On the planner
track the warehouse's pipeline by arrival day is as long as the scenario's longest supplier
lead time, so it transfers only to scenarios with the same one (others are skipped).
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from hmarl_bench.agents.policy import ModelLoadError
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import DECIDE_MS, KPI_COLUMNS, evaluate
from hmarl_bench.harness.cells import Cell
from hmarl_bench.harness.traces import episode_trace, rows_of
from hmarl_bench.learn.hierarchy import Policies, evaluate_policies, parse_learners
from hmarl_bench.learn.rounds import round_summary, train_rounds

__all__ = ["run_hierarchy", "transfer_rows"]


def _curve(results: list) -> list[dict[str, Any]]:
    rows, offset = [], 0
    for result in results:
        for name, curve in result.curves.items():
            for row in rows_of(curve):
                rows.append(
                    {**row, "timesteps": offset + row["timesteps"], "learner": name,
                     "round": result.round}
                )  # fmt: skip
            offset += int(result.timesteps[name])
    return rows


def transfer_rows(cell: Cell, policies: Policies) -> list[dict[str, Any]]:
    """The policies, trained on the cell's scenario, on each of ``cell.transfer_scenarios``:
    one row per (target scenario, evaluation seed) with the KPIs and system reward."""
    rows = []
    for name in cell.transfer_scenarios:
        target = load_scenario(name)
        try:
            frame = evaluate_policies(target, policies, cell.evaluation_seeds)
        except ModelLoadError:  # another observation size (a planner warehouse's pipeline
            continue  # by arrival day is as long as the target's longest supplier lead time)
        frame.insert(0, "target_scenario", target.name)
        rows += rows_of(frame[["target_scenario", "seed", *KPI_COLUMNS, "system_reward"]])
    return rows


def run_hierarchy(cell: Cell, scenario: Scenario) -> dict[str, Any]:
    """Train a hierarchical learner cell and score it (see the module docstring)."""
    from hmarl_bench.harness import residual_cells

    if residual_cells.is_residual(cell):
        return residual_cells.run_residual(cell, scenario)
    learners = parse_learners(list(cell.learners))
    budgets = dict(cell.role_timesteps) or {learner.name: cell.timesteps for learner in learners}
    results = train_rounds(
        scenario,
        learners,
        rounds=cell.rounds,
        algo=cell.algo_name,
        seed=int(cell.training_seed or 0),
        timesteps=budgets,
        n_envs=cell.n_envs,
        hyperparams=dict(cell.hyperparams) or None,
        validation_seeds=cell.validation_seeds,
        eval_seeds=cell.evaluation_seeds,
        eval_freq=cell.eval_freq,
    )
    final = results[-1]
    frame = evaluate(
        scenario, final.policies.controller(scenario), cell.evaluation_seeds, keep_reports=True
    )
    artifacts = {}
    for learner in learners:
        buffer = io.BytesIO()
        getattr(final.policies, learner.name).save(buffer)
        artifacts[f"{learner.name}.zip"] = buffer.getvalue()
    result = {
        "rows": rows_of(frame),
        "trace": episode_trace(frame, scenario),
        "learning_curve": _curve(results),
        "info": {
            "train_seconds": float(sum(sum(r.train_seconds.values()) for r in results)),
            "timesteps": int(sum(sum(r.timesteps.values()) for r in results)),  # whole rollouts
            "timesteps_requested": int(sum(sum(r.timesteps_requested.values()) for r in results)),
            "rounds": [round_summary(r) for r in results],
            DECIDE_MS: frame.attrs[DECIDE_MS],
        },
        "_artifacts": artifacts,
    }
    if cell.transfer_scenarios:
        result["transfer"] = transfer_rows(cell, final.policies)
    return result


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
