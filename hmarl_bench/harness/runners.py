"""How each kind of cell runs: a pure function of the cell, from which the result comes back.

:data:`RUNNERS` maps a cell kind to its runner. A runner's kind-specific imports sit inside
it, so that the static import closure from the runner (the cell's fingerprint's ``code``
part, :data:`hmarl_bench.harness.cells.RUNNER_ROOTS`) holds the modules that kind of cell
runs and no others: a baseline cell does not go stale when the training code changes.
"""

from __future__ import annotations

import dataclasses
import io
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import numpy as np

from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import KPI_COLUMNS, ModelStores, RoleController, evaluate
from hmarl_bench.harness.cells import (
    BASELINE,
    CLAIRVOYANT,
    EXTERNAL,
    LEARNER,
    Cell,
    CellOutcome,
)
from hmarl_bench.harness.traces import episode_trace, rows_of

__all__ = [
    "RUNNERS",
    "execute_cell",
    "run_baseline",
    "run_cell",
    "run_clairvoyant",
    "run_external",
    "run_learner",
]


def run_learner(cell: Cell, scenario: Scenario) -> dict[str, Any]:
    from hmarl_bench.harness import hier_cells

    if not cell.is_store_only:
        return hier_cells.run_hierarchy(cell, scenario)
    from hmarl_bench.learn.train import train_store_policy

    trained = train_store_policy(
        scenario,
        algo=cell.algo_name,
        timesteps=cell.timesteps,
        seed=int(cell.training_seed or 0),
        n_envs=cell.n_envs,
        hyperparams=dict(cell.hyperparams) or None,
        eval_seeds=cell.validation_seeds,
        eval_freq=cell.eval_freq,
        progress_bar=False,
    )
    interface = dict(cell.hyperparams).get("interface", "seed")
    controller = RoleController(stores=ModelStores(trained.model), interface=interface)
    frame = evaluate(scenario, controller, cell.evaluation_seeds, keep_reports=True)
    buffer = io.BytesIO()
    trained.model.save(buffer)
    curve = trained.learning_curve
    result = {
        "rows": rows_of(frame),
        "trace": episode_trace(frame, scenario),
        "learning_curve": rows_of(curve) if len(curve) else [],
        "info": {
            "train_seconds": float(trained.seconds),
            "timesteps": int(trained.timesteps),  # whole rollouts
            "timesteps_requested": int(trained.budget.requested),
        },
        "_artifacts": {"model.zip": buffer.getvalue()},
    }
    if cell.transfer_scenarios:
        from hmarl_bench.learn.hierarchy import Policies

        policies = Policies(stores=trained.model, interface=interface)
        result["transfer"] = hier_cells.transfer_rows(cell, policies)
    return result


def run_baseline(cell: Cell, scenario: Scenario) -> dict[str, Any]:
    from hmarl_bench.baselines import SearchBudget, make_baseline

    budget = SearchBudget(cell.tuning_budget, cell.tuning_seed) if cell.tuning_budget else None
    start = time.perf_counter()
    controller = make_baseline(
        cell.policy, scenario, cell.tuning_seeds, seed=cell.baseline_seed, budget=budget
    )
    tune_seconds = time.perf_counter() - start
    start = time.perf_counter()
    frame = evaluate(scenario, controller, cell.evaluation_seeds, keep_reports=True)
    info: dict[str, Any] = {
        "tune_seconds": tune_seconds,
        "evaluate_seconds": time.perf_counter() - start,
        "tuned_params": getattr(controller, "tuned_params", None),
    }
    if hasattr(controller, "solve_stats"):  # the rolling-horizon MILP's solve times
        info["mpc"] = {  # on the evaluation seeds (before the run on the tuning seeds)
            **controller.solve_stats(),
            "seconds_per_day": [float(sum(day)) for day in controller.solve_seconds],
        }
    # The (tuned) controller on the tuning seeds too: the reference, the best rule, is
    # chosen there, never on the evaluation seeds (hmarl_bench.harness.paired).
    tuning = evaluate(scenario, controller, cell.tuning_seeds) if cell.tuning_seeds else None
    info["tuning_rows"] = rows_of(tuning) if tuning is not None else []
    if getattr(controller, "tuning_info", None):  # a searched baseline
        info["tuning"] = controller.tuning_info
    table = getattr(controller, "tuning_table", None)
    if table is not None:  # the search trace (CellStore also writes it to tuning/)
        info["tuning_trace"] = rows_of(table)
    return {"rows": rows_of(frame), "trace": episode_trace(frame, scenario), "info": info}


def _scalars(result: Any) -> dict[str, Any]:
    values = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else vars(result)
    out = {}
    for key, value in values.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or isinstance(value, bool | int | float | str):
            out[key] = value
    return out


def run_clairvoyant(cell: Cell, scenario: Scenario) -> dict[str, Any]:
    from hmarl_bench.harness.clairvoyant import clairvoyant_bound

    rows, solves = [], []
    for seed in cell.evaluation_seeds:
        values = _scalars(clairvoyant_bound(scenario, seed, time_limit=cell.time_limit))
        rows.append({"seed": seed, **{k: values.get(k) for k in KPI_COLUMNS}})
        solves.append({"seed": seed, **{k: v for k, v in values.items() if k not in KPI_COLUMNS}})
    return {"rows": rows, "info": {"solves": solves}}


def run_external(cell: Cell, scenario: Scenario) -> dict[str, Any]:
    """A policy brought by import path (:mod:`hmarl_bench.harness.external`), evaluated
    like a baseline: one batched pass over the evaluation seeds."""
    from hmarl_bench.harness.external import CheckedController, make_controller

    start = time.perf_counter()
    controller, form = make_controller(cell.factory, scenario)
    build_seconds = time.perf_counter() - start
    checked = CheckedController(controller, cell.policy)  # every day's orders checked
    frame = evaluate(scenario, checked, cell.evaluation_seeds, keep_reports=True)
    return {
        "rows": rows_of(frame),
        "trace": episode_trace(frame, scenario),
        "info": {"factory": cell.factory, "form": form, "build_seconds": build_seconds},
    }


#: The runner of each cell kind (each one's roots in ``RUNNER_ROOTS``).
RUNNERS: dict[str, Callable[[Cell, Scenario], dict[str, Any]]] = {
    LEARNER: run_learner,
    BASELINE: run_baseline,
    CLAIRVOYANT: run_clairvoyant,
    EXTERNAL: run_external,
}


def run_cell(cell: Cell) -> dict[str, Any]:
    """Run one cell and return its result (raises on failure)."""
    start = time.perf_counter()
    scenario = load_scenario(cell.scenario)
    result = RUNNERS[cell.kind](cell, scenario)
    result.update(
        cell_id=cell.cell_id,
        kind=cell.kind,
        scenario=scenario.name,
        policy=cell.policy,
        training_seed=cell.training_seed,
        fingerprint=cell.fingerprint,
        seconds=time.perf_counter() - start,
        finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        cell=dataclasses.asdict(cell),
    )
    return result


def execute_cell(cell: Cell) -> CellOutcome:
    """:func:`run_cell` that never raises (but for interrupts): failures become outcomes."""
    start = time.perf_counter()
    try:
        return CellOutcome(cell, result=run_cell(cell), seconds=time.perf_counter() - start)
    except Exception as err:  # a failing cell must not stop the others
        return CellOutcome(
            cell,
            error=f"{type(err).__name__}: {err}",
            traceback=traceback.format_exc(),
            seconds=time.perf_counter() - start,
        )
