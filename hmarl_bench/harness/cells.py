"""Cells: the benchmark's units of work, their fingerprints, and how results are stored.

A benchmark is a list of independent cells:

- ``learner``: (scenario x algo entry x training seed) trains the learner the entry names
  (a registered name or a user's import path, :mod:`hmarl_bench.learn.registry`),
  evaluates its controller on every evaluation seed and keeps its learning curve
  (validation seeds) and its models; on the generalization scenario it also runs on the
  other scenarios (:mod:`hmarl_bench.harness.transfer`);
- ``baseline``: (scenario x baseline) tunes on the tuning seeds, evaluates on every
  evaluation seed in one batched pass, then runs the (tuned) controller on the tuning
  seeds too (``info["tuning_rows"]``): the reference, the best rule, is chosen there;
- ``clairvoyant``: (scenario) solves one perfect-information MILP per evaluation seed;
- ``external``: (scenario x a policy brought by import path) builds it with its factory
  and evaluates it on every evaluation seed in one batched pass
  (:mod:`hmarl_bench.harness.external`); never the reference.

A cell is a frozen, picklable value (it can cross to a process pool or a Ray worker);
:mod:`hmarl_bench.harness.runners` runs it. Results come back to the driver, which writes
them with :class:`CellStore` atomically (temporary file, then ``os.replace``): a killed
run loses only the cells in flight, and a rerun skips the cells already stored.

**Fingerprint.** A stored result is reused only under its cell's current fingerprint, a
hash of three parts (:func:`fingerprint_parts`), each also stored with the result so that
``--status`` can say which one changed:

- ``values``: the cell's values, the scenario's values and the values (not the comments)
  of the hyperparameter files its learners read;
- ``code``: the source of every ``hmarl_bench`` module the cell's runner reaches by static
  imports, from its roots in :data:`RUNNER_ROOTS` (:mod:`hmarl_bench.harness.provenance`):
  editing the dynamics, rewards, a baseline or training makes cells stale, editing tables,
  figures or the README code does not; an ``external`` cell adds the source of its
  factory's module (:func:`hmarl_bench.harness.factory_refs.factory_modules`); a
  ``learner`` cell adds its learner's module, which the runner imports dynamically: for
  the package's own learners the static closure from that module, for a user's the
  SHA-256 of its source file (``learner:<module or path>``);
- ``libraries``: Python's major.minor and the versions of numpy, scipy, torch,
  stable-baselines3 and sb3-contrib.

A stored file that cannot be read (truncated, corrupt) is reported with a warning naming
it and computed again, and so is a result that lacks what the current code stores
(:func:`missing_fields`: a baseline cell stored before it scored the tuning seeds).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hmarl_bench._atomic import write_atomic
from hmarl_bench._toml import tomllib
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.harness.factory_refs import factory_modules, origin
from hmarl_bench.harness.provenance import (
    code_digest,
    import_graph,
    library_versions,
    module_closure,
    module_digests,
)
from hmarl_bench.harness.traces import TRACE_SLOTS, episode_trace, records_csv, rows_of
from hmarl_bench.locations import experiments_dir

if TYPE_CHECKING:
    from hmarl_bench.harness.spec import BenchmarkSpec

__all__ = [
    "RUNNER_ROOTS",
    "TRACE_SLOTS",
    "Cell",
    "CellOutcome",
    "CellStatus",
    "CellStore",
    "build_cells",
    "episode_trace",
    "fingerprint_parts",
    "learner_modules",
    "missing_fields",
    "rows_of",
    "write_atomic",
]

LEARNER, BASELINE, CLAIRVOYANT = "learner", "baseline", "clairvoyant"
EXTERNAL = "external"
HYPERPARAM_DIR = experiments_dir("hyperparams")

#: Where each kind of cell starts running: ``module:function`` roots of the static import
#: closure whose source enters the fingerprint. A new kind adds its runner here (and to
#: :data:`hmarl_bench.harness.runners.RUNNERS`; a test checks the two agree).
RUNNER_ROOTS: dict[str, tuple[str, ...]] = {
    LEARNER: ("hmarl_bench.harness.runners:run_learner",),
    BASELINE: (
        "hmarl_bench.harness.runners:run_baseline",
        "hmarl_bench.harness.units:run_unit",  # a baseline cell split into units
    ),
    CLAIRVOYANT: ("hmarl_bench.harness.runners:run_clairvoyant",),
    EXTERNAL: ("hmarl_bench.harness.runners:run_external",),
}


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
    algo: str = ""  # the algo when ``policy`` is a label (``ppo`` for ``ppo-warehouse``)
    learners: tuple[str, ...] = ("stores",)  # roles whose hyperparameter files it reads
    transfer_scenarios: tuple[str, ...] = ()  # where a learner is also evaluated
    factory: str = ""  # an external policy's "module:attribute"
    tuning_budget: int = 0  # candidate-episodes of a searched baseline's tuning (0: none)
    tuning_seed: int = 0
    learner: str = ""  # a learner's registered name or import path (hmarl_bench.learn.registry)
    learner_module: str = ""  # the module (or file) of that learner, for the fingerprint
    options: tuple[tuple[str, Any], ...] = ()  # the learner's options (sorted pairs)
    fingerprint: str = ""

    @property
    def algo_name(self) -> str:
        return self.algo or self.policy

    @property
    def cell_id(self) -> str:
        scenario = Path(self.scenario).stem if self.scenario.endswith(".toml") else self.scenario
        seed = "" if self.training_seed is None else f"__seed{self.training_seed}"
        return f"{scenario}__{self.policy}{seed}"


#: Cell fields added for hierarchical learners, searched baselines and the learner
#: registry; left out of the values digest at their defaults, so adding a field does not
#: change the digest of cells that do not use it.
_NEW_FIELDS = {
    "algo": "",
    "learners": ("stores",),
    "transfer_scenarios": (),
    "factory": "",
    "tuning_budget": 0,
    "tuning_seed": 0,
    "learner": "",
    "learner_module": "",
    "options": (),
}


def _hyperparam_values(path: Path) -> dict[str, Any]:
    """A hyperparams file's values (not its text: editing a comment keeps results current)."""
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _values_digest(cell: Cell, scenario: Scenario) -> str:
    values = dataclasses.asdict(cell)
    values.pop("fingerprint")
    for key, default in _NEW_FIELDS.items():
        if values[key] == default:
            values.pop(key)
    values["scenario_values"] = scenario.to_dict()
    if cell.kind == LEARNER:  # the files hyperparam_keys.hyperparams_file reads
        track = str(dict(cell.hyperparams).get("interface", "seed")).partition(":")[0]
        prefix = f"{track}_" if track in ("planner", "view") else ""
        stores = f"{prefix}stores_{cell.algo_name}" if prefix else cell.algo_name
        values["hyperparam_values"] = _hyperparam_values(HYPERPARAM_DIR / f"{stores}.toml")
        for role in (r for r in cell.learners if r != "stores"):
            path = HYPERPARAM_DIR / f"{prefix}{role}_{cell.algo_name}.toml"
            values[f"hyperparam_values_{role}"] = _hyperparam_values(path)
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def code_modules(kind: str) -> dict[str, str]:
    """Source digests of the modules a cell of ``kind`` runs (module docstring)."""
    return module_digests(module_closure(RUNNER_ROOTS[kind]))


def fingerprint_parts(cell: Cell, scenario: Scenario | None = None) -> dict[str, Any]:
    """The parts of ``cell``'s fingerprint: ``values``, ``code`` (with the digest of each
    module in ``modules``) and ``libraries`` (module docstring)."""
    scenario = load_scenario(cell.scenario) if scenario is None else scenario
    modules = code_modules(cell.kind)
    if cell.kind == EXTERNAL:  # the brought policy's own module, found without running it
        modules = {**modules, **factory_modules(cell.factory)}
    if cell.kind == LEARNER and cell.learner_module:
        modules = {**modules, **learner_modules(cell.learner_module)}
    return {
        "values": _values_digest(cell, scenario),
        "code": code_digest(modules),
        "libraries": library_versions(),
        "modules": modules,
    }


def learner_modules(module: str) -> dict[str, str]:
    """The code a learner cell runs beyond its runner's closure: the learner's module,
    imported by name at run time (invisible to the static graph). A module of the package
    adds its static closure; a user's module or source file adds ``learner:<module or
    path>`` with the SHA-256 of its source (the modules it imports are not hashed)."""
    if module in import_graph().files:
        return module_digests(module_closure([module]))
    path = module if module.endswith(".py") else origin(module)
    with open(path, "rb") as handle:
        return {f"learner:{module}": hashlib.sha256(handle.read()).hexdigest()}


def _fingerprint(parts: dict[str, Any]) -> str:
    keyed = {k: parts[k] for k in ("values", "code", "libraries")}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]


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
                transfer_scenarios=transfer,
                tuning_seeds=spec.tuning_seeds,
                learner=algo.learner,
                learner_module=algo.learner_module,
                options=algo.options,
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
                **_tuning_fields(spec, baseline),
                **common,
            )
            for baseline in spec.baselines
        ]
        todo += [
            Cell(EXTERNAL, policy=policy.name, factory=policy.factory, **common)
            for policy in spec.externals
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
        for cell in todo:
            parts = fingerprint_parts(cell, scenario)
            cell = dataclasses.replace(cell, fingerprint=_fingerprint(parts))
            _PARTS[cell.fingerprint] = parts
            cells.append(cell)
    return cells


def _tuning_fields(spec: BenchmarkSpec, baseline: str) -> dict[str, int]:
    """The search budget of a searched baseline; nothing for the others (their cells, and
    fingerprints, do not depend on it). The spec names the searched ones: this module does
    not import the baselines (they are not in a learner cell's code)."""
    if baseline not in spec.searched_baselines:
        return {}
    return {"tuning_budget": spec.tuning_candidate_episodes, "tuning_seed": spec.tuning_seed}


#: Fingerprint parts of the cells built in this process, by fingerprint (what the store
#: records beside each result, as they were when the run started).
_PARTS: dict[str, dict[str, Any]] = {}


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


# --------------------------------------------------------------------------- storing


class CellStore:
    """Results under ``root/cells/<cell-id>.json`` (errors: ``<cell-id>.error.json``),
    learners' models under ``root/models/<cell-id>.zip`` and tuned baselines' search traces
    under ``root/tuning/<cell-id>.csv``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.cells_dir = self.root / "cells"
        self.models_dir = self.root / "models"
        self.tuning_dir = self.root / "tuning"
        self._warned: set[Path] = set()

    def result_path(self, cell: Cell) -> Path:
        return self.cells_dir / f"{cell.cell_id}.json"

    def error_path(self, cell: Cell) -> Path:
        return self.cells_dir / f"{cell.cell_id}.error.json"

    def _read(self, path: Path, warn: bool = True) -> dict[str, Any] | None:
        """A stored result file, or None (with a warning, once) when it is unreadable."""
        try:
            result = json.loads(path.read_text("utf-8"))
            if not isinstance(result, dict) or "fingerprint" not in result:
                raise ValueError("not a cell result")
        except (OSError, UnicodeDecodeError, ValueError) as err:
            if warn and path not in self._warned:
                self._warned.add(path)
                print(
                    f"warning: stored cell {path} is corrupt or truncated ({err}); it counts "
                    "as not stored: a run of the benchmark computes it again",
                    file=sys.stderr,
                )
            return None
        return result

    def load(self, cell: Cell) -> dict[str, Any] | None:
        """The stored result of ``cell`` if there is a complete one for its current
        fingerprint (:func:`missing_fields`)."""
        path = self.result_path(cell)
        result = self._read(path) if path.is_file() else None
        if not result or result.get("fingerprint") != cell.fingerprint:
            return None
        return None if missing_fields(result) else result

    def is_done(self, cell: Cell) -> bool:
        return self.load(cell) is not None

    def error(self, cell: Cell) -> dict[str, Any] | None:
        path = self.error_path(cell)
        return json.loads(path.read_text("utf-8")) if path.is_file() else None

    def write(self, outcome: CellOutcome) -> Path:
        """Store an outcome atomically; a success clears the cell's old error."""
        cell = outcome.cell
        if not outcome.ok:
            record = {
                "cell_id": cell.cell_id,
                "error": outcome.error,
                "traceback": outcome.traceback,
                "seconds": outcome.seconds,
                "failed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "cell": dataclasses.asdict(cell),
            }
            path = self.error_path(cell)
            write_atomic(path, json.dumps(record, indent=1, default=str).encode())
            return path
        result = dict(outcome.result or {})
        artifacts = []
        for name, data in result.pop("_artifacts", {}).items():
            # "model.zip" -> <cell-id>.zip; a hierarchy's "warehouse.zip" -> <cell-id>.warehouse.zip
            target = f"{cell.cell_id}.zip" if name == "model.zip" else f"{cell.cell_id}.{name}"
            write_atomic(self.models_dir / target, data)
            artifacts.append(target)
        if artifacts:  # what a copy of this cell (--reuse-from) must bring along
            result["artifacts"] = sorted(artifacts)
        trace = result.get("info", {}).get("tuning_trace")
        if trace:  # a tuned baseline's search trace, one row per generation (or candidate)
            write_atomic(self.tuning_dir / f"{cell.cell_id}.csv", records_csv(trace))
        parts = _PARTS.get(cell.fingerprint) or fingerprint_parts(cell)
        result["fingerprint_parts"] = parts
        path = self.result_path(cell)
        write_atomic(path, json.dumps(result, indent=1, default=str).encode())
        self.error_path(cell).unlink(missing_ok=True)
        return path

    def results(self, cells: Sequence[Cell]) -> list[dict[str, Any]]:
        """The stored, current results of ``cells`` (missing and stale ones left out)."""
        return [r for r in (self.load(c) for c in cells) if r is not None]

    def incomplete(self, cells: Sequence[Cell]) -> list[Cell]:
        """The cells stored under their current fingerprint but lacking what the current
        code stores (:func:`missing_fields`): a run recomputes them."""
        return [c for c in cells if self.status(c).state == "incomplete"]

    def stale(self, cells: Sequence[Cell]) -> list[Cell]:
        """The cells stored under another fingerprint: computed under another configuration,
        other code or other libraries (:meth:`status` says which), so not used."""
        return [c for c in cells if self.status(c).state == "stale"]

    def status(self, cell: Cell) -> CellStatus:
        """Whether ``cell`` is stored and current, and if not, why (for ``--status``)."""
        path = self.result_path(cell)
        if not path.is_file():
            failed = self.error_path(cell).is_file()
            return CellStatus(cell, "failed" if failed else "missing")
        result = self._read(path, warn=False)
        if result is None:
            return CellStatus(cell, "corrupt", f"{path} cannot be read")
        if result.get("fingerprint") == cell.fingerprint:
            missing = missing_fields(result)
            if missing:
                return CellStatus(cell, "incomplete", f"stored without {', '.join(missing)}")
            return CellStatus(cell, "current")
        return CellStatus(cell, "stale", _why_stale(result.get("fingerprint_parts"), cell))


@dataclass(frozen=True)
class CellStatus:
    """``state``: current, stale, incomplete, missing, failed or corrupt; ``reason`` for
    stale and incomplete ones."""

    cell: Cell
    state: str
    reason: str = ""


def missing_fields(result: dict[str, Any]) -> list[str]:
    """What a stored result lacks that the current code stores (empty: complete).

    A baseline's score on the tuning seeds (``info.tuning_rows``) chooses the reference; a
    result stored without it must be recomputed, not used with the reference chosen on
    the evaluation seeds instead.
    """
    if result.get("kind") == BASELINE and "tuning_rows" not in result.get("info", {}):
        return ["info.tuning_rows"]
    return []


def _why_stale(stored: dict[str, Any] | None, cell: Cell) -> str:
    if not stored:
        return "stored before fingerprints covered code and libraries"
    now = _PARTS.get(cell.fingerprint) or fingerprint_parts(cell)
    reasons = []
    if stored.get("values") != now["values"]:
        reasons.append("cell, scenario or hyperparameter values changed")
    old, new = stored.get("modules", {}), now["modules"]
    edited = sorted(m for m in set(old) & set(new) if old[m] != new[m])
    for label, names in (
        ("edited", edited),
        ("now run", sorted(set(new) - set(old))),
        ("no longer run", sorted(set(old) - set(new))),
    ):
        if names:
            reasons.append(f"code {label}: {', '.join(names)}")
    libraries = stored.get("libraries", {})
    changed = [
        f"{k} {libraries.get(k, '?')} -> {v}"
        for k, v in now["libraries"].items()
        if libraries.get(k) != v
    ]
    if changed:
        reasons.append("libraries: " + ", ".join(changed))
    return "; ".join(reasons) or "fingerprint differs"
