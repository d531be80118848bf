"""A run's folder: one run per folder, its ``config.json``, and what ``--resume`` reads back.

- :func:`make_run_folder` refuses a folder that already holds files (a second run would
  overwrite half of the first and leave the rest), unless ``force``, which first deletes
  the files and folders a run writes (:data:`RUN_OUTPUTS`, nothing else). A default folder
  name that is taken gets a ``-2``, ``-3``, ... suffix.
- ``config.json`` is written when the run starts (``status: "training"``), again when it
  is interrupted (``"interrupted"``), when training is done (``"trained"``) and at the end
  (``"complete"``), each time atomically, so a run stopped at any moment leaves a readable
  one. :func:`resume_args` reads it back and refuses options that contradict it.
- :func:`code_record` is what ``config.json`` records under ``code``: a digest of the source
  of every ``hmarl_bench`` module a run can reach (as a benchmark cell's fingerprint is
  made) and, when the package sits in a git checkout, the commit. A run resumed under
  other code says so and records that code too (``code_at_resume``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from hmarl_bench._atomic import write_atomic
from hmarl_bench.harness.provenance import (
    PACKAGE_DIR,
    code_digest,
    module_closure,
    module_digests,
)
from hmarl_bench.run.args import RunArgs, given_options

__all__ = [
    "RUN_OUTPUTS",
    "RUN_ROOTS",
    "RunFolderError",
    "code_record",
    "default_run_folder",
    "make_run_folder",
    "read_config",
    "clear_training",
    "resume_args",
    "write_config",
]

#: What a run writes in its folder (``--force`` deletes these and only these).
RUN_OUTPUTS = (
    "config.json",
    "model.zip",
    "best_model.zip",
    "checkpoints",
    "tb",
    "learning_curve.csv",
    "learning_curve.png",
    "results.csv",
    "results.md",
    "episodes.csv",
    "rounds.csv",
    "rounds.md",
    "round_*",
)
#: Where a run's code starts: every module these reach by static imports is code it can run.
RUN_ROOTS = ("hmarl_bench.run.__main__",)
#: Options that may accompany ``--resume`` whatever the run recorded (display only).
_FREE_ON_RESUME = {"resume", "progress", "restart"}
#: What ``--resume --restart`` deletes before training again from step 0.
TRAINING_OUTPUTS = ("model.zip", "best_model.zip", "checkpoints", "tb", "learning_curve.csv")


class RunFolderError(ValueError):
    """A run folder cannot be used: taken, unwritable, or not a resumable run."""


def default_run_folder(label: str) -> Path:
    """``runs/<label>-<time>``, with a ``-2``, ``-3``, ... suffix when that is taken."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{label}-{stamp}"
    out, n = base, 1
    while out.exists():
        n += 1
        out = base.with_name(f"{base.name}-{n}")
    return out


def _git(*args: str) -> str | None:
    """``git -C <the package's folder> args`` (stripped output), None without git or a
    checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(PACKAGE_DIR), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def code_record(root: Path | None = None) -> dict[str, Any]:
    """What code a run runs, for its ``config.json``: ``digest``, one hash over the source
    of the ``modules`` ``hmarl_bench`` modules :data:`RUN_ROOTS` reach by static imports
    (:mod:`hmarl_bench.harness.provenance`; an edit to any of them changes it, an edit
    elsewhere does not); for the installed package in a git checkout, ``git_commit`` and
    ``git_dirty`` (uncommitted changes to the package's files)."""
    modules = module_closure(RUN_ROOTS, root)
    record: dict[str, Any] = {
        "digest": code_digest(module_digests(modules, root)),
        "modules": len(modules),
    }
    # the package's own files must be tracked there: an installed copy under a venv that
    # happens to sit inside some checkout is not that checkout's code
    tracked = root is None and _git("ls-files", "--error-unmatch", "__init__.py") is not None
    commit = _git("rev-parse", "HEAD") if tracked else None
    if commit:
        status = _git("status", "--porcelain", "--", ".")
        record["git_commit"] = commit
        record["git_dirty"] = bool(status)
    return record


def _remove_outputs(out: Path) -> None:
    for pattern in RUN_OUTPUTS:
        for path in out.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def make_run_folder(out: Path, force: bool = False) -> None:
    """Create ``out`` for a new run (see the module docstring); raises RunFolderError."""
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"cannot use {out} as the run folder: it is a file")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise RunFolderError(
                f"{out} already holds files (another run?); give a new --out, --force to "
                f"replace the run in it, or --resume {out} to continue an interrupted one"
            )
        try:
            _remove_outputs(out)
        except OSError as err:
            raise RunFolderError(f"cannot clear the run files in {out}: {err}") from None
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-check-"):
            pass  # the folder takes files
    except OSError as err:
        raise RunFolderError(f"cannot use {out} as the run folder: {err}") from None


def write_config(out: Path, config: dict[str, Any]) -> None:
    """Write ``out/config.json`` atomically (readers see the old file or the new one),
    readable as the umask allows (typically 0644)."""
    write_atomic(out / "config.json", json.dumps(config, indent=2, default=str))


def read_config(out: Path) -> dict[str, Any]:
    """A run folder's ``config.json``; raises RunFolderError if there is none to read."""
    path = Path(out) / "config.json"
    if not path.is_file():
        raise RunFolderError(f"{out} is not a run folder: it has no config.json")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RunFolderError(f"cannot read {path}: {err}") from None
    if not isinstance(config, dict) or not isinstance(config.get("args"), dict):
        raise RunFolderError(f"{path} is not a run's config.json (no 'args')")
    return config


def resume_args(args: RunArgs, argv: list[str] | None) -> tuple[RunArgs, dict[str, Any]]:
    """The recorded args of the run in ``args.resume`` and its config.

    Options given beside ``--resume`` must equal the recorded ones (but ``--no-progress``,
    which only changes the display); a complete run has nothing to resume.
    """
    out = Path(args.resume)
    config = read_config(out)
    if config.get("status") == "complete":
        raise RunFolderError(f"the run in {out} is complete: there is nothing to resume")
    recorded = RunArgs.from_dict(config["args"])
    given = given_options(list(sys.argv[1:] if argv is None else argv))
    for name, value in given.items():
        if name in _FREE_ON_RESUME or getattr(recorded, name) == value:
            continue
        flag = "--" + name.replace("_", "-")
        raise RunFolderError(
            f"--resume continues the run with the configuration in {out / 'config.json'}; "
            f"{flag} {value!r} differs from its {getattr(recorded, name)!r} (leave {flag} out)"
        )
    code = code_record()
    if config.get("code", {}).get("digest") != code["digest"]:
        print(
            f"warning: resuming {out} under other code than it started with (code digest "
            f"{config.get('code', {}).get('digest', 'not recorded')}, now {code['digest']}); "
            "config.json records both",
            file=sys.stderr,
        )
        config["code_at_resume"] = code
    recorded.out, recorded.resume, recorded.force = str(out), str(out), False
    recorded.progress = args.progress
    recorded.restart = args.restart
    return recorded, config


def clear_training(out: Path) -> None:
    """Delete what training wrote in ``out`` (:data:`TRAINING_OUTPUTS`), for ``--restart``."""
    for name in TRAINING_OUTPUTS:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
