"""Reuse cells another benchmark already computed, when their fingerprints prove them equal.

A cell's fingerprint (:mod:`hmarl_bench.harness.cells`) covers everything its result
depends on: the cell's values (scenario, policy, seeds, budget, hyperparameters), the
scenario's values, the hyperparameter files' values, the source of the code the cell runs
and the library versions; it does not name the benchmark. So a cell of benchmark
``frontier`` whose id and fingerprint equal a complete, stored cell of benchmark
``hierarchy`` would compute exactly that result again (cells are deterministic given their
seeds): :func:`reuse_cells` copies it instead, with its models. Anything else, a stale,
incomplete, corrupt or missing source cell, is left to run; so is a cell whose models are
not in the source folder (``models/`` is not committed: a learner cell from a clone has
its scores but not its policy), since a copy without them would be current to
``--status`` yet have no model to load or transfer. Such cells are named in one line.

``python -m hmarl_bench.benchmark frontier --reuse-from results/hierarchy results/default``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hmarl_bench.harness.cells import LEARNER, Cell, CellStore, write_atomic

__all__ = ["reusable", "reuse_cells"]


def _models(store: CellStore, cell: Cell) -> list[Path]:
    """The model files a stored learner cell wrote (``<id>.zip``, ``<id>.<role>.zip``)."""
    if not store.models_dir.is_dir():
        return []
    return sorted(
        p
        for p in store.models_dir.iterdir()
        if p.name == f"{cell.cell_id}.zip" or p.name.startswith(f"{cell.cell_id}.")
    )


def _models_present(store: CellStore, cell: Cell, result: dict[str, Any]) -> bool:
    """Whether the models ``result`` was stored with are in ``store`` (its ``artifacts``;
    a learner cell stored before they were listed needs at least its own model)."""
    names = result.get("artifacts")
    if names is None:
        return cell.kind != LEARNER or bool(_models(store, cell))
    return all((store.models_dir / name).is_file() for name in names)


def _source_of(cell: Cell, stores: Sequence[CellStore]) -> tuple[CellStore | None, list[str]]:
    """The first of ``stores`` holding ``cell`` complete under its fingerprint with its
    models, and the models folders of those that hold it without them."""
    lacking = []
    for source in stores:
        result = source.load(cell)
        if result is None:
            continue
        if _models_present(source, cell, result):
            return source, lacking
        lacking.append(str(source.models_dir))
    return None, lacking


def _stores(store: CellStore, sources: Sequence[Path]) -> list[CellStore]:
    return [CellStore(Path(s)) for s in sources if Path(s).resolve() != store.root.resolve()]


def reusable(cells: Sequence[Cell], store: CellStore, sources: Sequence[Path]) -> dict[str, Path]:
    """Which of ``cells`` that ``store`` lacks :func:`reuse_cells` would copy, by cell id,
    and from which results folder; copies nothing (``--status --reuse-from``)."""
    stores = _stores(store, sources)
    found = {}
    for cell in cells:
        if not store.is_done(cell):
            source, _ = _source_of(cell, stores)
            if source is not None:
                found[cell.cell_id] = source.root
    return found


def reuse_cells(cells: Sequence[Cell], store: CellStore, sources: Sequence[Path]) -> list[Cell]:
    """Copy into ``store`` each of ``cells`` it lacks that a source results folder holds
    under the same fingerprint (complete, as :meth:`CellStore.load` requires); returns the
    cells copied. ``sources`` are results folders of other benchmarks (``results/hierarchy``);
    the first that has a cell wins. The cell file is copied byte for byte (its timings are
    those of the run that computed it), then its models."""
    copied, without_models = [], []
    stores = _stores(store, sources)
    for cell in cells:
        if store.is_done(cell):
            continue
        source, lacking = _source_of(cell, stores)
        if source is not None:
            for model in _models(source, cell):
                write_atomic(store.models_dir / model.name, model.read_bytes())
            write_atomic(store.result_path(cell), source.result_path(cell).read_bytes())
            store.error_path(cell).unlink(missing_ok=True)
            copied.append(cell)
        elif lacking:
            without_models.append(f"{cell.cell_id} (not in {', '.join(lacking)})")
    if without_models:
        print(
            f"note: {len(without_models)} cell(s) stored under the same fingerprint were not "
            f"reused because their models are missing, so they run: {', '.join(without_models)}",
            file=sys.stderr,
        )
    return copied
