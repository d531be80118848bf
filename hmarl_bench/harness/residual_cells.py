"""Residual learner cells: PPO corrections to the tuned reference rule, scored like a learner.

A learner cell whose algo entry has ``learners = "residual"``
(:mod:`hmarl_bench.learn.residual`) reaches here through
:func:`hmarl_bench.harness.runners.run_learner` (every learner cell that is not the plain
store learner goes to :func:`hmarl_bench.harness.hier_cells.run_hierarchy`, which hands
residual cells over). The cell tunes ``tuned_echelon_free`` on the benchmark's tuning
seeds with its ``[tuning]`` budget (the spec puts both in the cell's ``hyperparams`` under
:data:`~hmarl_bench.learn.hyperparam_keys.BASE_TUNING_KEYS`, so a change of either makes
the cell stale), trains, keeps the best policy on the validation seeds (step 0, the rule,
included) and evaluates it on every evaluation seed.

``info`` holds the base rule's ``tuned_params`` (equal to the baseline cell's for the same
inputs), ``train_seconds`` and ``tune_seconds``, the reward's ``cost_scale``, the rule's
mean cost on the tuning and validation seeds, the ``selected_timesteps`` (0: the rule was
kept), and ``factor_shares``/``factor_counts``: how often the selected policy chose a
factor other than 1.0 on the evaluation episodes (copy-days; stores, warehouse, either).
The learning curve (validation cost per evaluation, step 0 first) is the cell's
``learning_curve`` with ``learner = "residual"``. No ``transfer`` rows: the base rule is
tuned per scenario, so a residual policy does not run unchanged elsewhere.
"""

from __future__ import annotations

import io
from typing import Any

from hmarl_bench.config import Scenario
from hmarl_bench.evaluation import DECIDE_MS, evaluate
from hmarl_bench.harness.cells import Cell
from hmarl_bench.harness.traces import episode_trace, rows_of
from hmarl_bench.learn.hyperparam_keys import BASE_TUNING_KEYS, RESIDUAL
from hmarl_bench.learn.residual import train_residual

__all__ = ["is_residual", "run_residual"]


def is_residual(cell: Cell) -> bool:
    """Whether ``cell`` is a residual learner cell."""
    return tuple(cell.learners) == (RESIDUAL,)


def run_residual(cell: Cell, scenario: Scenario) -> dict[str, Any]:
    """Train and score a residual learner cell (see the module docstring)."""
    overrides = dict(cell.hyperparams)
    missing = [k for k in BASE_TUNING_KEYS if k not in overrides]
    if missing:
        raise ValueError(f"a residual cell needs {missing} in its hyperparams (the spec adds them)")
    tuning_seeds, budget, search_seed = (overrides.pop(k) for k in BASE_TUNING_KEYS)
    trained = train_residual(
        scenario,
        tuning_seeds=[int(s) for s in tuning_seeds],
        validation_seeds=list(cell.validation_seeds),
        candidate_episodes=int(budget),
        tuning_seed=int(search_seed),
        seed=int(cell.training_seed or 0),
        timesteps=cell.timesteps,
        n_envs=cell.n_envs,
        hyperparams=overrides or None,
        eval_freq=cell.eval_freq,
    )
    controller = trained.controller()
    frame = evaluate(scenario, controller, cell.evaluation_seeds, keep_reports=True)
    buffer = io.BytesIO()
    trained.model.save(buffer)
    curve = [{**row, "learner": RESIDUAL} for row in rows_of(trained.learning_curve)]
    params = trained.hyperparams
    return {
        "rows": rows_of(frame),
        "trace": episode_trace(frame, scenario),
        "learning_curve": curve,
        "info": {
            "base_rule": "tuned_echelon_free",
            "tuned_params": trained.base_params,
            "tuning": trained.tuning_info,
            "train_seconds": float(trained.train_seconds),
            "tune_seconds": float(trained.tune_seconds),
            "timesteps": int(trained.timesteps),  # whole rollouts
            "timesteps_requested": int(trained.budget.requested) if trained.budget else None,
            "cost_scale": trained.cost_scale,
            DECIDE_MS: frame.attrs[DECIDE_MS],
            "rule_tuning_cost": trained.rule_tuning_cost,
            "rule_validation_cost": trained.rule_validation_cost,
            "selected_timesteps": trained.selected_timesteps,
            "rule_selected": trained.rule_selected,
            "factors": list(params["factors"]),
            "logit_bias": params["logit_bias"],
            "factor_shares": controller.factor_shares(),
            "factor_counts": {
                "stores": controller.factor_counts[0].tolist(),
                "warehouse": controller.factor_counts[1].tolist(),
            },
        },
        # the selected model (at step 0 the untrained one: factor 1.0, the rule)
        "_artifacts": {"model.zip": buffer.getvalue()},
    }
