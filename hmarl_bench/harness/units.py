"""Work units: a rule's cell split into episodes that any worker runs, stored as they finish.

A baseline cell of an untuned or grid-tuned rule (the registry's builders that carry
``rule_class``; the rolling-horizon MILPs among them) is a set of independent episodes,
since :func:`~hmarl_bench.evaluation.evaluate` scores every seed on its own (the same KPIs
whether a seed runs alone or in a batch; tested). Such a cell runs as :class:`Unit` s:

- ``tune``: one grid candidate on one tuning seed (grid-tuned rules); when all of them are
  stored, the best candidate is chosen as :func:`~hmarl_bench.baselines.grid.tune` chooses
  it, and its tuning-seed episodes are also the cell's ``tuning_rows``;
- ``evaluate``: the (tuned) rule on one evaluation seed (the first seed's unit also keeps
  the episode trace);
- ``tuning_rows``: an untuned rule on one tuning seed.

Each unit's result is written, as it finishes, to ``cells/<cell-id>.units/<unit-id>.json``
(temporary file, then ``os.replace``) with the cell's fingerprint, its seconds and the node
that ran it. A rerun skips the units stored under the cell's current fingerprint and
deletes the others (stale). When the last unit is stored the cell's result is assembled
(:func:`assemble`): the same rows, trace, tuning table and tuned parameters as the
single-process runner (:func:`~hmarl_bench.harness.runners.run_baseline`), plus
``info["units"]`` (count, summed seconds, nodes): ``cpu_seconds`` over the run's wall time
is the speed-up the workers gave. The cell's ``seconds`` are the units' summed seconds.

Which cells split is the run's ``split`` mode (:data:`SPLIT_MODES`): ``milp`` (the default:
the MILP baselines, whose episodes take minutes to hours), ``all`` (every untuned or
grid-tuned rule) or ``none``. Learner, searched, clairvoyant and external cells, and the
random rule (one stream over the batch), always run whole.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hmarl_bench.config import load_scenario
from hmarl_bench.harness.cells import (
    BASELINE,
    Cell,
    CellOutcome,
    CellStore,
    fingerprint_parts,
    write_atomic,
)
from hmarl_bench.harness.runners import execute_cell
from hmarl_bench.harness.traces import episode_trace, rows_of

__all__ = [
    "SPLIT_MODES",
    "Unit",
    "UnitOutcome",
    "UnitScheduler",
    "assemble",
    "execute_task",
    "plan_units",
    "run_unit",
    "splits",
]

#: ``--split`` choices: which baseline cells run as units (module docstring).
SPLIT_MODES = ("milp", "all", "none")
TUNE, EVALUATE, TUNING_ROWS = "tune", "evaluate", "tuning_rows"


@dataclass(frozen=True)
class Unit:
    """One episode of a cell: ``stage`` (module docstring), its ``seed`` and, for a
    grid-tuned rule, the grid ``candidate`` (its index in the rule's ``tuning_grid``)."""

    cell: Cell
    stage: str
    seed: int
    candidate: int = -1

    @property
    def unit_id(self) -> str:
        candidate = f"__c{self.candidate}" if self.candidate >= 0 else ""
        return f"{self.stage}{candidate}__seed{self.seed}"


@dataclass
class UnitOutcome:
    """What came back from a unit: a result, or an error with its traceback."""

    unit: Unit
    result: dict[str, Any] | None = None
    error: str | None = None
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _rule(policy: str) -> tuple[type, bool] | None:
    """The rule class of a baseline name and whether it is grid-tuned (None: not a rule
    that splits)."""
    from hmarl_bench.baselines.registry import BASELINES

    build = BASELINES.get(policy)
    cls = getattr(build, "rule_class", None)
    return None if cls is None else (cls, bool(build.grid_tuned))


def splits(cell: Cell, mode: str) -> bool:
    """Whether ``cell`` runs as units under split ``mode``."""
    from hmarl_bench.baselines.registry import MILP_BASELINES

    if mode not in SPLIT_MODES:
        raise ValueError(f"unknown split mode {mode!r}; choose one of {list(SPLIT_MODES)}")
    if mode == "none" or cell.kind != BASELINE or _rule(cell.policy) is None:
        return False
    if _rule(cell.policy)[1] and not cell.tuning_seeds:  # nothing to tune on
        return False
    return mode == "all" or cell.policy in MILP_BASELINES


def _grid(cell: Cell) -> list[dict[str, Any]]:
    cls, _ = _rule(cell.policy)
    return list(cls.tuning_grid(load_scenario(cell.scenario)))


def plan_units(cell: Cell, best: int | None = None) -> list[Unit]:
    """The units of ``cell``'s next stage: a grid-tuned rule's tuning units while ``best``
    is unknown, then (or for an untuned rule) its evaluation and tuning-seed units."""
    _, tuned = _rule(cell.policy)
    if tuned and best is None:
        candidates = range(len(_grid(cell)))
        return [Unit(cell, TUNE, int(s), c) for c in candidates for s in cell.tuning_seeds]
    candidate = -1 if best is None else best
    units = [Unit(cell, EVALUATE, int(s), candidate) for s in cell.evaluation_seeds]
    if not tuned:
        units += [Unit(cell, TUNING_ROWS, int(s)) for s in cell.tuning_seeds]
    return units


@functools.lru_cache(maxsize=256)
def _check_fingerprint(cell: Cell) -> None:
    """Refuse a unit whose cell this node would compute differently (other code or
    libraries than the driver's: a cluster node with another checkout)."""
    from hmarl_bench.harness.cells import _fingerprint

    if not cell.fingerprint:  # a cell built by hand, outside a benchmark
        return
    here = _fingerprint(fingerprint_parts(cell))
    if here != cell.fingerprint:
        raise RuntimeError(
            f"node {socket.gethostname()} computes cell {cell.cell_id} under fingerprint "
            f"{here}, the driver under {cell.fingerprint}: install the driver's hmarl_bench "
            "code and libraries on every node"
        )


def run_unit(unit: Unit) -> dict[str, Any]:
    """Run one episode of ``unit`` and return its record (raises on failure)."""
    from hmarl_bench.evaluation import evaluate

    _check_fingerprint(unit.cell)
    started, start = time.time(), time.perf_counter()
    cell, scenario = unit.cell, load_scenario(unit.cell.scenario)
    cls, _ = _rule(cell.policy)
    params = _grid(cell)[unit.candidate] if unit.candidate >= 0 else {}
    controller = cls(**params)
    frame = evaluate(scenario, controller, [unit.seed], keep_reports=unit.stage == EVALUATE)
    record: dict[str, Any] = {"rows": rows_of(frame)}
    if unit.stage == EVALUATE and unit.seed == int(cell.evaluation_seeds[0]):
        record["trace"] = episode_trace(frame, scenario)
    if unit.stage == EVALUATE and hasattr(controller, "solve_seconds"):
        record["solve_seconds"] = [float(day[0]) for day in controller.solve_seconds]
    record.update(
        unit_id=unit.unit_id,
        fingerprint=cell.fingerprint,
        seconds=time.perf_counter() - start,
        started=started,
        finished=time.time(),
        node=_node(),
        pid=os.getpid(),
    )
    return record


def _node() -> str:
    """The machine that ran a unit, and its Ray node when it ran on a Ray cluster (several
    nodes may share a machine)."""
    host = socket.gethostname()
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return f"{host}/{ray.get_runtime_context().get_node_id()[:12]}"
    return host


def execute_unit(unit: Unit) -> UnitOutcome:
    """:func:`run_unit` that never raises (but for interrupts): a failure is an outcome."""
    try:
        return UnitOutcome(unit, result=run_unit(unit))
    except Exception as err:  # a failing unit fails its cell, not the run
        error = f"{type(err).__name__}: {err}"
        return UnitOutcome(unit, error=error, traceback=traceback.format_exc())


def execute_task(task: Cell | Unit) -> CellOutcome | UnitOutcome:
    """What an executor's worker runs: a whole cell or one unit."""
    return execute_unit(task) if isinstance(task, Unit) else execute_cell(task)


# --------------------------------------------------------------------------- assembling


def assemble(cell: Cell, records: dict[str, dict[str, Any]], best: int | None) -> dict[str, Any]:
    """The cell's result from its unit records (by unit id), as
    :func:`~hmarl_bench.harness.runners.run_cell` would have returned it."""
    from hmarl_bench.baselines.grid import tuning_table

    cls, tuned = _rule(cell.policy)
    tuning_seeds = [int(s) for s in cell.tuning_seeds]
    evals = [records[u.unit_id] for u in plan_units(cell, best) if u.stage == EVALUATE]
    info: dict[str, Any] = {"tune_seconds": 0.0, "tuned_params": None}
    if tuned:
        grid = _grid(cell)
        tunes = [[records[Unit(cell, TUNE, s, c).unit_id] for s in tuning_seeds] for c in
                 range(len(grid))]  # fmt: skip
        costs = [[r["rows"][0]["total_cost"] for r in row] for row in tunes]
        chosen, table = tuning_table(grid, costs)
        assert chosen == best, "the best candidate changed between planning and assembling"
        info["tune_seconds"] = sum(r["seconds"] for row in tunes for r in row)
        info["tuned_params"] = dict(grid[best])
        tuning = tunes[best]
    else:
        tuning = [records[Unit(cell, TUNING_ROWS, s).unit_id] for s in tuning_seeds]
    info["evaluate_seconds"] = sum(r["seconds"] for r in evals)
    if "solve_seconds" in evals[0]:  # the MILP's solve times on the evaluation seeds
        controller = cls()
        per_copy = [r["solve_seconds"] for r in evals]  # each episode's days, in seed order
        controller.solve_seconds = [list(day) for day in zip(*per_copy, strict=True)]
        info["mpc"] = {
            **controller.solve_stats(),
            "seconds_per_day": [float(sum(day)) for day in controller.solve_seconds],
        }
    info["tuning_rows"] = [row for r in tuning for row in r["rows"]]
    if tuned:
        info["tuning_trace"] = rows_of(table)
    every = list(records.values())
    info["units"] = {
        "count": len(every),
        "cpu_seconds": sum(r["seconds"] for r in every),
        "max_seconds": max(r["seconds"] for r in every),
        "span_seconds": max(r["finished"] for r in every) - min(r["started"] for r in every),
        "nodes": sorted({r["node"] for r in every}),
    }
    return {
        "rows": [row for r in evals for row in r["rows"]],
        "trace": evals[0]["trace"],
        "info": info,
        "cell_id": cell.cell_id,
        "kind": cell.kind,
        "scenario": load_scenario(cell.scenario).name,
        "policy": cell.policy,
        "training_seed": cell.training_seed,
        "fingerprint": cell.fingerprint,
        "seconds": info["units"]["cpu_seconds"],
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cell": dataclasses.asdict(cell),
    }


# --------------------------------------------------------------------------- the driver


class UnitScheduler:
    """The driver's side: which units of each split cell still run, storing each one as it
    comes back, and the cell's outcome once its last unit is stored."""

    def __init__(self, store: CellStore) -> None:
        self.store = store
        self.records: dict[str, dict[str, dict[str, Any]]] = {}  # cell id -> unit id -> record
        self.waiting: dict[str, set[str]] = {}  # cell id -> unit ids in flight
        self.best: dict[str, int | None] = {}

    def units_dir(self, cell: Cell) -> Path:
        return self.store.cells_dir / f"{cell.cell_id}.units"

    def _load(self, cell: Cell) -> dict[str, dict[str, Any]]:
        """The cell's stored units under its current fingerprint; stale ones are deleted."""
        found = {}
        folder = self.units_dir(cell)
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                record = json.loads(path.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                record = None
            if not isinstance(record, dict) or record.get("fingerprint") != cell.fingerprint:
                path.unlink(missing_ok=True)  # stale (other fingerprint) or unreadable
                continue
            found[record["unit_id"]] = record
        return found

    def start(self, cell: Cell) -> tuple[list[Unit], CellOutcome | None]:
        """The units of ``cell`` to run now (those stored are skipped), or its outcome
        when every unit is already stored."""
        self.records[cell.cell_id] = self._load(cell)
        self.best[cell.cell_id] = None
        return self._next(cell)

    def _next(self, cell: Cell) -> tuple[list[Unit], CellOutcome | None]:
        records = self.records[cell.cell_id]
        while True:
            units = plan_units(cell, self.best[cell.cell_id])
            todo = [u for u in units if u.unit_id not in records]
            if todo:
                self.waiting[cell.cell_id] = {u.unit_id for u in todo}
                return todo, None
            if units[0].stage != TUNE:
                break
            self.best[cell.cell_id] = self._choose(cell, units)
        keep = {u.unit_id for u in units} | {u.unit_id for u in plan_units(cell) if u.stage == TUNE}
        used = {k: v for k, v in records.items() if k in keep}
        result = assemble(cell, used, self.best[cell.cell_id])
        return [], CellOutcome(cell, result=result, seconds=result["seconds"])

    def _choose(self, cell: Cell, units: Sequence[Unit]) -> int:
        from hmarl_bench.baselines.grid import tuning_table

        records = self.records[cell.cell_id]
        grid = _grid(cell)
        costs = [
            [records[u.unit_id]["rows"][0]["total_cost"] for u in units if u.candidate == c]
            for c in range(len(grid))
        ]
        return tuning_table(grid, costs)[0]

    def finished(self, outcome: UnitOutcome) -> tuple[list[Unit], CellOutcome | None]:
        """Store a unit's outcome; the cell's next units, or its outcome when complete
        (a failed unit fails the cell; the units already stored stay for a rerun)."""
        unit = outcome.unit
        cell = unit.cell
        waiting = self.waiting.get(cell.cell_id)
        if outcome.ok:  # stored even when the cell already failed: a rerun skips it
            path = self.units_dir(cell) / f"{unit.unit_id}.json"
            write_atomic(path, json.dumps(outcome.result, default=str).encode())
            self.records[cell.cell_id][unit.unit_id] = outcome.result
        if waiting is None:  # the cell already failed
            return [], None
        if not outcome.ok:
            del self.waiting[cell.cell_id]
            error = f"unit {unit.unit_id}: {outcome.error}"
            return [], CellOutcome(cell, error=error, traceback=outcome.traceback)
        waiting.discard(unit.unit_id)
        if waiting:
            return [], None
        return self._next(cell)


OnOutcome = Callable[[CellOutcome], None]


def run_split(
    runner: Any, cells: Sequence[Cell], store: CellStore, on_outcome: OnOutcome, split: str
) -> None:
    """Run ``cells`` on ``runner`` (an executor), those that :func:`splits` as units, the
    others whole; ``on_outcome`` gets every cell's outcome, as with ``runner.run``."""
    scheduler = UnitScheduler(store)
    tasks: list[Cell | Unit] = []
    for cell in cells:
        if not splits(cell, split):
            tasks.append(cell)
            continue
        units, outcome = scheduler.start(cell)
        tasks += units
        if outcome is not None:  # every unit was stored by an earlier run
            on_outcome(outcome)

    def done(outcome: CellOutcome | UnitOutcome) -> Iterable[Unit]:
        if isinstance(outcome, CellOutcome):
            on_outcome(outcome)
            return ()
        more, finished = scheduler.finished(outcome)
        if finished is not None:
            on_outcome(finished)
        return more

    if tasks:
        runner.run(tasks, done)
