"""Reuse cells another benchmark already computed, when their fingerprints prove them equal.

A cell's fingerprint (:mod:`hmarl_bench.harness.cells`) covers everything its result
depends on: the cell's values (scenario, policy, seeds, budget, hyperparameters), the
scenario's values, the hyperparameter files' values, the source of the code the cell runs
and the library versions; it does not name the benchmark. So a cell of benchmark
``frontier`` whose id and fingerprint equal a complete, stored cell of benchmark
``hierarchy`` would compute exactly that result again (cells are deterministic given their
seeds): :func:`reuse_cells` copies it instead, with its models. Anything else, a stale,
incomplete, corrupt or missing source cell, is left to run.

``python -m hmarl_bench.benchmark frontier --reuse-from results/hierarchy results/default``
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hmarl_bench.harness.cells import Cell, CellStore, write_atomic

__all__ = ["reuse_cells"]


def _models(store: CellStore, cell: Cell) -> list[Path]:
    """The model files a stored learner cell wrote (``<id>.zip``, ``<id>.<role>.zip``)."""
    if not store.models_dir.is_dir():
        return []
    return sorted(
        p
        for p in store.models_dir.iterdir()
        if p.name == f"{cell.cell_id}.zip" or p.name.startswith(f"{cell.cell_id}.")
    )


def reuse_cells(cells: Sequence[Cell], store: CellStore, sources: Sequence[Path]) -> list[Cell]:
    """Copy into ``store`` each of ``cells`` it lacks that a source results folder holds
    under the same fingerprint (complete, as :meth:`CellStore.load` requires); returns the
    cells copied. ``sources`` are results folders of other benchmarks (``results/hierarchy``);
    the first that has a cell wins. The cell file is copied byte for byte (its timings are
    those of the run that computed it), then its models."""
    copied = []
    stores = [CellStore(Path(s)) for s in sources if Path(s).resolve() != store.root.resolve()]
    for cell in cells:
        if store.is_done(cell):
            continue
        for source in stores:
            if source.load(cell) is None:
                continue
            for model in _models(source, cell):
                write_atomic(store.models_dir / model.name, model.read_bytes())
            write_atomic(store.result_path(cell), source.result_path(cell).read_bytes())
            store.error_path(cell).unlink(missing_ok=True)
            copied.append(cell)
            break
    return copied
