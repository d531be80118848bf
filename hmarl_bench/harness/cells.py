"""Cells: the benchmark's units of work, how each one runs, and how its result is stored.

A benchmark is a list of independent cells:

- ``learner``: (scenario x algo x training seed) trains a store policy, or the learners of
  a hierarchical algo entry round by round (:mod:`hmarl_bench.harness.hier_cells`),
  evaluates it on every evaluation seed and keeps its learning curve (validation seeds)
  and its models; on the generalization scenario it also runs on the other scenarios;
- ``baseline``: (scenario x baseline) tunes on the tuning seeds, evaluates on every
  evaluation seed in one batched pass, then runs the (tuned) controller on the tuning
  seeds too (``info["tuning_rows"]``): the reference, the best rule, is chosen there;
- ``clairvoyant``: (scenario) solves one perfect-information MILP per evaluation seed.

A cell is a frozen, picklable value (it can cross to a process pool or a Ray worker) and
:func:`run_cell` is a pure function of it. Results come back to the driver, which stores
them atomically (:mod:`hmarl_bench.harness.store`): a killed run loses only the cells in
flight, and a rerun skips the cells already stored. A stored result carries its cell's
fingerprint (the cell's values, the scenario's values and the values of the
hyperparameter files, not their comments), so a result computed under another
configuration is recomputed, and so is a result that lacks what the current code stores
(:func:`~hmarl_bench.harness.store.missing_fields`: a baseline cell stored before it
scored the tuning seeds).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hmarl_bench._toml import tomllib
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import KPI_COLUMNS, ModelStores, RoleController, evaluate
from hmarl_bench.harness.spec import BENCHMARK_DIR, BenchmarkSpec

__all__ = [
    "Cell",
    "CellOutcome",
    "build_cells",
    "execute_cell",
    "run_cell",
    "episode_trace",
    "rows_of",
]

LEARNER, BASELINE, CLAIRVOYANT = "learner", "baseline", "clairvoyant"
HYPERPARAM_DIR = BENCHMARK_DIR.parent / "hyperparams"


@dataclass(frozen=True)
class Cell:
    """One unit of work. ``policy`` is an algo, a baseline name or ``clairvoyant``."""

    kind: str
    scenario: str
    policy: str
    evaluation_seeds: tuple[int, ...]
    training_seed: int | None = None
    tuning_seeds: tuple[int, ...] = ()
    validation_seeds: tuple[int, ...] = ()
    baseline_seed: int = 0
    timesteps: int = 0
    n_envs: int | None = None
    eval_freq: int = 0
    hyperparams: tuple[tuple[str, Any], ...] = ()
    time_limit: float = 60.0
    algo: str = ""  # the SB3 algo when ``policy`` is a hierarchical label
    learners: tuple[str, ...] = ("stores",)
    rounds: int = 1
    role_timesteps: tuple[tuple[str, int], ...] = ()
    transfer_scenarios: tuple[str, ...] = ()  # where a learner is also evaluated
    fingerprint: str = ""

    @property
    def algo_name(self) -> str:
        return self.algo or self.policy

    @property
    def is_store_only(self) -> bool:
        return self.learners == ("stores",) and self.rounds == 1

    @property
    def cell_id(self) -> str:
        scenario = Path(self.scenario).stem if self.scenario.endswith(".toml") else self.scenario
        seed = "" if self.training_seed is None else f"__seed{self.training_seed}"
        return f"{scenario}__{self.policy}{seed}"


#: Cell fields added for hierarchical learners; left out of the fingerprint at their
#: defaults, so the store learner's stored cells stay current.
_NEW_FIELDS = {
    "algo": "",
    "learners": ("stores",),
    "rounds": 1,
    "role_timesteps": (),
    "transfer_scenarios": (),
}


def _hyperparam_values(path: Path) -> dict[str, Any]:
    """A hyperparams file's values (not its text: editing a comment keeps results current)."""
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _fingerprint(cell: Cell, scenario: Scenario) -> str:
    values = dataclasses.asdict(cell)
    values.pop("fingerprint")
    for key, default in _NEW_FIELDS.items():
        if values[key] == default:
            values.pop(key)
    values["scenario_values"] = scenario.to_dict()
    if cell.kind == LEARNER:
        values["hyperparam_values"] = _hyperparam_values(HYPERPARAM_DIR / f"{cell.algo_name}.toml")
        for role in (r for r in cell.learners if r != "stores"):
            path = HYPERPARAM_DIR / f"{role}_{cell.algo_name}.toml"
            values[f"hyperparam_values_{role}"] = _hyperparam_values(path)
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_cells(spec: BenchmarkSpec) -> list[Cell]:
    """Every cell of the benchmark, scenario by scenario: learners, baselines, bound."""
    cells: list[Cell] = []
    for name in spec.scenarios:
        scenario = load_scenario(name)
        common = {"scenario": name, "evaluation_seeds": spec.evaluation_seeds}
        transfer = ()
        if name == spec.generalization_from:
            transfer = tuple(s for s in spec.scenarios if s != name)
        todo = [
            Cell(
                LEARNER,
                policy=algo.policy,
                training_seed=seed,
                validation_seeds=spec.validation_seeds,
                timesteps=algo.timesteps,
                n_envs=algo.n_envs,
                eval_freq=algo.eval_freq,
                hyperparams=algo.hyperparams,
                algo="" if algo.policy == algo.name else algo.name,
                learners=algo.learners,
                rounds=algo.rounds,
                role_timesteps=algo.role_timesteps,
                transfer_scenarios=transfer,
                **common,
            )
            for algo in spec.algos
            for seed in spec.training_seeds
        ]
        todo += [
            Cell(
                BASELINE,
                policy=baseline,
                tuning_seeds=spec.tuning_seeds,
                baseline_seed=spec.baseline_seed,
                **common,
            )
            for baseline in spec.baselines
        ]
        if spec.clairvoyant:
            todo.append(
                Cell(
                    CLAIRVOYANT,
                    policy=CLAIRVOYANT,
                    time_limit=spec.clairvoyant_time_limit,
                    **common,
                )
            )
        cells += [dataclasses.replace(c, fingerprint=_fingerprint(c, scenario)) for c in todo]
    return cells


# --------------------------------------------------------------------------- running


#: Store slots kept in an episode trace (and drawn in its figure).
TRACE_SLOTS = 6


def episode_trace(frame: pd.DataFrame, scenario: Scenario, index: int = 0) -> dict[str, Any]:
    """Daily series of copy ``index`` from ``evaluate(..., keep_reports=True)``.

    Stores: on_hand (end of day), ordered, demand, lost_sales [units] of the first
    :data:`TRACE_SLOTS` store slots (store-SKU pairs; all of them in small chains, so a
    1,000-store trace stays small); warehouse: on_hand, ordered (from the supplier),
    shipped (to the stores), short (ordered by the stores but not shipped) [units], over
    all SKUs.
    """
    reports = frame.attrs["reports"]

    def series(role: str, term: str, store: int | None = None) -> list[float]:
        values = [getattr(getattr(r, role), term)[index] for r in reports]
        return [float(v if store is None else v[store]) for v in values]

    names = [s.name for s in scenario.stores]  # with several SKUs: "<store>_<sku>" per slot
    if scenario.n_skus > 1:
        names = [f"{store}_{sku.name}" for store in names for sku in scenario.products]
    stores = {
        name: {t: series("stores", t, i) for t in ("on_hand", "ordered", "demand", "lost_sales")}
        for i, name in enumerate(names[:TRACE_SLOTS])
    }
    warehouse = {
        "on_hand": series("warehouse", "on_hand"),
        "ordered": series("warehouse", "ordered"),
        "shipped": series("warehouse", "sales"),
        "short": series("warehouse", "lost_sales"),
    }
    return {
        "seed": int(frame["seed"].iloc[index]),
        "days": [int(r.day) for r in reports],
        "warmup_days": scenario.warmup_days,
        "stores": stores,
        "warehouse": warehouse,
    }


def rows_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready records (numpy scalars as Python numbers, NaN as None)."""
    return [
        {k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _run_learner(cell: Cell, scenario: Scenario) -> dict[str, Any]:
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
    controller = RoleController(stores=ModelStores(trained.model))
    frame = evaluate(scenario, controller, cell.evaluation_seeds, keep_reports=True)
    buffer = io.BytesIO()
    trained.model.save(buffer)
    curve = trained.learning_curve
    result = {
        "rows": rows_of(frame),
        "trace": episode_trace(frame, scenario),
        "learning_curve": rows_of(curve) if len(curve) else [],
        "info": {"train_seconds": float(trained.seconds), "timesteps": int(trained.timesteps)},
        "_artifacts": {"model.zip": buffer.getvalue()},
    }
    if cell.transfer_scenarios:
        from hmarl_bench.learn.hierarchy import Policies

        result["transfer"] = hier_cells.transfer_rows(cell, Policies(stores=trained.model))
    return result


def _run_baseline(cell: Cell, scenario: Scenario) -> dict[str, Any]:
    from hmarl_bench.baselines import make_baseline

    start = time.perf_counter()
    controller = make_baseline(cell.policy, scenario, cell.tuning_seeds, seed=cell.baseline_seed)
    tune_seconds = time.perf_counter() - start
    frame = evaluate(scenario, controller, cell.evaluation_seeds, keep_reports=True)
    # After the evaluation seeds, so their rows are what they were before this was added.
    tuning = evaluate(scenario, controller, cell.tuning_seeds) if cell.tuning_seeds else None
    return {
        "rows": rows_of(frame),
        "trace": episode_trace(frame, scenario),
        "info": {
            "tune_seconds": tune_seconds,
            "tuned_params": getattr(controller, "tuned_params", None),
            "tuning_rows": rows_of(tuning) if tuning is not None else [],
        },
    }


def _scalars(result: Any) -> dict[str, Any]:
    values = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else vars(result)
    out = {}
    for key, value in values.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or isinstance(value, bool | int | float | str):
            out[key] = value
    return out


def _run_clairvoyant(cell: Cell, scenario: Scenario) -> dict[str, Any]:
    from hmarl_bench.harness.clairvoyant import clairvoyant_bound

    rows, solves = [], []
    for seed in cell.evaluation_seeds:
        values = _scalars(clairvoyant_bound(scenario, seed, time_limit=cell.time_limit))
        rows.append({"seed": seed, **{k: values.get(k) for k in KPI_COLUMNS}})
        solves.append({"seed": seed, **{k: v for k, v in values.items() if k not in KPI_COLUMNS}})
    return {"rows": rows, "info": {"solves": solves}}


_RUNNERS = {LEARNER: _run_learner, BASELINE: _run_baseline, CLAIRVOYANT: _run_clairvoyant}


def run_cell(cell: Cell) -> dict[str, Any]:
    """Run one cell and return its result (raises on failure)."""
    start = time.perf_counter()
    scenario = load_scenario(cell.scenario)
    result = _RUNNERS[cell.kind](cell, scenario)
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


@dataclass
class CellOutcome:
    """What came back from a cell: a result, or an error with its traceback."""

    cell: Cell
    result: dict[str, Any] | None = None
    error: str | None = None
    traceback: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


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
