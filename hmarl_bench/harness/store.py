"""Storing cell results: atomically, by cell id, with their fingerprint.

Results go to ``root/cells/<cell-id>.json`` (failures to ``<cell-id>.error.json``) and
learners' models to ``root/models/<cell-id>.zip``, each written to a temporary file and
moved into place (``os.replace``): readers see the old file or the whole new one, and a
killed run loses only the cells in flight. A stored result counts only under its cell's
current fingerprint and only when it holds everything the current code stores
(:func:`missing_fields`); otherwise a run recomputes it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hmarl_bench.harness.cells import BASELINE, Cell, CellOutcome

__all__ = ["CellStore", "missing_fields", "write_atomic"]


def missing_fields(result: dict[str, Any]) -> list[str]:
    """What a stored result lacks that the current code stores (empty: complete).

    A baseline's score on the tuning seeds (``info.tuning_rows``) chooses the reference;
    results stored before it existed have none, and the report must not fall back to
    choosing on the evaluation seeds.
    """
    if result.get("kind") == BASELINE and "tuning_rows" not in result.get("info", {}):
        return ["info.tuning_rows"]
    return []


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give (mkstemp makes 0600 files)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class CellStore:
    """Results under ``root/cells/<cell-id>.json`` (errors: ``<cell-id>.error.json``) and
    learners' models under ``root/models/<cell-id>.zip``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.cells_dir = self.root / "cells"
        self.models_dir = self.root / "models"

    def result_path(self, cell: Cell) -> Path:
        return self.cells_dir / f"{cell.cell_id}.json"

    def error_path(self, cell: Cell) -> Path:
        return self.cells_dir / f"{cell.cell_id}.error.json"

    def _read(self, cell: Cell) -> dict[str, Any] | None:
        """The stored result of ``cell`` under its current fingerprint, complete or not."""
        path = self.result_path(cell)
        if not path.is_file():
            return None
        try:
            result = json.loads(path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return result if result.get("fingerprint") == cell.fingerprint else None

    def load(self, cell: Cell) -> dict[str, Any] | None:
        """The stored result of ``cell`` if there is a complete one for its current
        fingerprint (:func:`missing_fields`)."""
        result = self._read(cell)
        return result if result is not None and not missing_fields(result) else None

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
        for name, data in result.pop("_artifacts", {}).items():
            # "model.zip" -> <cell-id>.zip; a hierarchy's "warehouse.zip" -> <cell-id>.warehouse.zip
            target = f"{cell.cell_id}.zip" if name == "model.zip" else f"{cell.cell_id}.{name}"
            write_atomic(self.models_dir / target, data)
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
        return [c for c in cells if (r := self._read(c)) is not None and missing_fields(r)]

    def stale(self, cells: Sequence[Cell]) -> list[Cell]:
        """The cells stored under another fingerprint: computed under another configuration
        (a changed scenario, hyperparameter or benchmark value), so not used."""
        return [c for c in cells if self.result_path(c).is_file() and self._read(c) is None]
