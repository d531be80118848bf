"""How each kind of cell runs: a pure function of the cell, from which the result comes back.

:data:`RUNNERS` maps a cell kind to its runner. A runner's kind-specific imports sit inside
it, so that the static import closure from the runner (the cell's fingerprint's ``code``
part, :data:`hmarl_bench.harness.cells.RUNNER_ROOTS`) holds the modules that kind of cell
runs and no others: a baseline cell does not go stale when the training code changes.
A learner cell's runner imports its learner by name (:mod:`hmarl_bench.learn.registry`),
which the static closure cannot see: the cell adds that learner's module as a root of its
own (:func:`hmarl_bench.harness.cells.learner_modules`).
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import DECIDE_MS, KPI_COLUMNS, evaluate
from hmarl_bench.harness.cells import (
    BASELINE,
    CLAIRVOYANT,
    EXTERNAL,
    LEARNER,
    Cell,
    CellOutcome,
)
from hmarl_bench.harness.traces import episode_trace, rows_of

if TYPE_CHECKING:
    from hmarl_bench.learn.api import LearnerTask

__all__ = [
    "RUNNERS",
    "execute_cell",
    "learner_task",
    "run_baseline",
    "run_cell",
    "run_clairvoyant",
    "run_external",
    "run_learner",
]


def run_learner(cell: Cell, scenario: Scenario) -> dict[str, Any]:
    """Any learner cell: the learner the cell names, found in the registry
    (:mod:`hmarl_bench.learn.registry`), trains on a :class:`~hmarl_bench.learn.api.LearnerTask`
    built from the cell; its controller is scored on the evaluation seeds like a rule's,
    with its daily trace, learning curve, info, artifacts and, on the generalization
    scenario, its transfer rows (:mod:`hmarl_bench.harness.transfer`)."""
    from hmarl_bench.harness.transfer import transfer_rows
    from hmarl_bench.learn.registry import LearnerError, resolve_learner

    task = learner_task(cell, scenario)
    trained = resolve_learner(cell.learner).train(task)
    controller = getattr(trained, "controller", None)
    if not (
        callable(getattr(controller, "reset", None))
        and callable(getattr(controller, "decide", None))
    ):
        raise LearnerError(
            f"learner {cell.learner!r}: train() returned {type(trained).__name__} without a "
            "controller (a Trained whose controller has reset(scenario, batch_size) and "
            "decide(view); hmarl_bench.learn.api)"
        )
    frame = evaluate(scenario, controller, cell.evaluation_seeds, keep_reports=True)
    info = dict(trained.info)
    evaluation_info = getattr(trained, "evaluation_info", None)
    if evaluation_info is not None:  # facts about the episodes just scored
        info.update(evaluation_info(cell.evaluation_seeds))
    result = {
        "rows": rows_of(frame),
        "trace": episode_trace(frame, scenario),
        "learning_curve": _curve_rows(trained.learning_curve),
        "info": {**info, DECIDE_MS: frame.attrs[DECIDE_MS]},
        "_artifacts": dict(getattr(trained, "artifacts", None) or {}),
    }
    transfer = getattr(trained, "transfer", None)
    if cell.transfer_scenarios and transfer is not None:
        result["transfer"] = transfer_rows(transfer, cell.transfer_scenarios, cell.evaluation_seeds)
    return result


def learner_task(cell: Cell, scenario: Scenario) -> LearnerTask:
    """What a learner cell asks of its learner: the scenario, the seeds it may use (never
    the evaluation seeds), the budget, the algo, the hyperparameters and the options."""
    from hmarl_bench.learn.api import LearnerTask

    return LearnerTask(
        scenario=scenario,
        training_seed=int(cell.training_seed or 0),
        validation_seeds=cell.validation_seeds,
        tuning_seeds=cell.tuning_seeds,
        timesteps=cell.timesteps,
        eval_freq=cell.eval_freq,
        algo=cell.algo_name,
        hyperparams=dict(cell.hyperparams),
        options=dict(cell.options),
        n_envs=cell.n_envs,
    )


def _curve_rows(curve: Any) -> list[dict[str, Any]]:
    """A learning curve as stored rows; ``validation_cost`` (the API's name) is also
    stored as ``mean_total_cost`` (the name the tables and figures read) where absent."""
    if curve is None or not len(curve):
        return []
    if "validation_cost" in curve.columns and "mean_total_cost" not in curve.columns:
        curve = curve.assign(mean_total_cost=curve["validation_cost"])
    return rows_of(curve)


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
        DECIDE_MS: frame.attrs[DECIDE_MS],
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
        "info": {
            "factory": cell.factory,
            "form": form,
            "build_seconds": build_seconds,
            DECIDE_MS: frame.attrs[DECIDE_MS],
        },
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
