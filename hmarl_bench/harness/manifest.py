"""Where a benchmark's results came from: the committed manifest and the ignored run log.

``manifest.json`` (committed beside the cells) says which config and which package
versions produced the stored cells. It holds no timestamp and no absolute path, and it is
rewritten only when cells are computed: rerunning a finished benchmark, or remaking its
tables, leaves it byte for byte as it was, so ``git status`` stays clean.

When a report writes figures, :func:`record_plotting` adds what their bytes depend on
(``plotting``: the matplotlib, fontTools and seaborn versions, and the font):
the same installs give the same entry, so the file stays byte for byte as it was.

``run_log.json`` holds the facts of one run (when, where, on which executor, how long,
which cells ran or failed, absolute paths). They differ from run to run, so the file is
ignored by git (``.gitignore``: ``results/**/run_log.json``).

Tables made with ``--allow-missing`` from some cells only are marked in the manifest
(``"partial"``: what is missing and the command that completes it); complete tables clear
the mark. Both files are written atomically (temporary file, then ``os.replace``).
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from hmarl_bench.harness.cells import write_atomic
from hmarl_bench.harness.spec import BenchmarkSpec
from hmarl_bench.locations import CHECKOUT_DIR, experiments_dir

__all__ = [
    "MANIFEST",
    "RUN_LOG",
    "config_label",
    "mark_partial",
    "now",
    "record_plotting",
    "write_manifest",
    "write_run_log",
]

MANIFEST, RUN_LOG = "manifest.json", "run_log.json"
#: The project root (the folder holding ``experiments/``) in a checkout.
PROJECT_ROOT = CHECKOUT_DIR.parent
PACKAGES = ("hmarl_bench", "numpy", "pandas", "scipy", "torch", "stable_baselines3", "ray")


def versions() -> dict[str, str]:
    """Python's and the key packages' versions (the installed ones)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def config_label(source: str | None) -> str | None:
    """The config's path relative to the project (``experiments/benchmarks/x.toml``), or
    its file name when it lives elsewhere: never an absolute path."""
    if not source:
        return None
    path = Path(source).resolve()
    try:  # a shipped config, also when read from an installed package's copy
        return "experiments/" + path.relative_to(experiments_dir().resolve()).as_posix()
    except ValueError:
        pass
    try:
        return path.relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return path.name


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


#: Entries that describe the tables and figures already under a results folder, not the
#: run: a run that starts keeps them, since the tables stay as they are until it remakes
#: them (then :func:`mark_partial` and :func:`record_plotting` set them again).
TABLE_ENTRIES = ("partial", "plotting")


def read_manifest(root: Path) -> dict[str, Any]:
    """``root``'s ``manifest.json`` as a dict ({} where it is missing or unreadable)."""
    try:
        manifest = json.loads((Path(root) / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def write_manifest(spec: BenchmarkSpec, root: Path) -> Path:
    """``benchmark.toml`` (the config's bytes) and ``manifest.json`` under ``root``, keeping
    the existing manifest's :data:`TABLE_ENTRIES`."""
    root.mkdir(parents=True, exist_ok=True)
    if spec.source:
        write_atomic(root / "benchmark.toml", Path(spec.source).read_bytes())
    manifest = {
        "benchmark": spec.name,
        "config": config_label(spec.source),
        "config_copy": "benchmark.toml" if spec.source else None,
        "versions": versions(),
    }
    path = root / MANIFEST
    old = read_manifest(root)
    manifest.update({key: old[key] for key in TABLE_ENTRIES if key in old})
    write_atomic(path, (json.dumps(manifest, indent=1) + "\n").encode())
    return path


def record_plotting(root: Path, versions: dict[str, str]) -> Path | None:
    """Put ``versions`` (of the plotting libraries) under ``plotting`` in ``root``'s
    manifest; the file is rewritten only when that entry changes, and left alone (``None``)
    where no manifest exists (a report of copied cells)."""
    path = root / MANIFEST
    if not path.exists():
        return None
    manifest = json.loads(path.read_text())
    if manifest.get("plotting") != versions:
        manifest["plotting"] = versions
        write_atomic(path, (json.dumps(manifest, indent=1) + "\n").encode())
    return path


def write_run_log(root: Path, facts: dict[str, Any]) -> Path:
    """``run_log.json`` under ``root``: this run's facts (git ignores the file)."""
    path = root / RUN_LOG
    write_atomic(path, (json.dumps(facts, indent=1, default=str) + "\n").encode())
    return path


def mark_partial(root: Path, partial: str) -> None:
    """Record in ``manifest.json`` that the tables under ``root`` are partial (``partial``:
    what is missing), or clear the record (empty ``partial``). The file is rewritten only
    when the mark changes, so complete tables leave it byte for byte as it was."""
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict):
        if not partial:
            return
        manifest = {}
    if manifest.get("partial", "") == partial:
        return
    if partial:
        manifest["partial"] = partial
    else:
        manifest.pop("partial", None)
    write_atomic(path, (json.dumps(manifest, indent=1) + "\n").encode())
