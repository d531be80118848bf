"""Training budgets in whole rollouts, checkpoints, Ctrl-C and resuming.

**Budgets** (:class:`Budget`, :func:`rollout_budget`, :func:`check_batch_size`) live in
:mod:`hmarl_bench.learn.budget`, free of torch for the CLIs' early checks; they are
re-exported here.

**Checkpoints and Ctrl-C.** Weights only change between rollouts, so
:class:`RolloutCheckpoints` saves at the start of a rollout (``<prefix>_<steps>_steps.zip``,
plus ``<prefix>_vecnormalize_<steps>_steps.pkl`` with reward normalization), where the
step count and the weights agree exactly; both files are written atomically (a kill or a
full disk mid-save leaves no half file under the final name). :func:`latest_checkpoint`
passes over a checkpoint that cannot be read anyway (named in a warning) to the one before
it. :func:`catch_sigint` turns the first Ctrl-C into a
:class:`StopFlag`; the callback then stops training at its next step and saves a checkpoint
of the last completed rollout, which is where :func:`latest_checkpoint` resumes. A second
Ctrl-C stops at once (``KeyboardInterrupt``).
"""

from __future__ import annotations

import pickle
import re
import signal
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecNormalize

from hmarl_bench._atomic import save_atomic
from hmarl_bench.learn.budget import Budget, check_batch_size, rollout_budget

__all__ = [
    "Budget",
    "Checkpoint",
    "Resume",
    "RolloutCheckpoints",
    "StopFlag",
    "catch_sigint",
    "check_batch_size",
    "latest_checkpoint",
    "rollout_budget",
    "unreadable",
]


class StopFlag:
    """Set by the first Ctrl-C (or by hand): training stops at its next step."""

    def __init__(self) -> None:
        self.is_set = False

    def set(self) -> None:
        self.is_set = True


@contextmanager
def catch_sigint() -> Iterator[StopFlag]:
    """While inside, the first SIGINT sets the yielded flag instead of raising; a second
    one raises ``KeyboardInterrupt`` as usual. The previous handler is restored after.
    Outside the main thread (where Python delivers signals) the flag is only set by hand."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        if flag.is_set:
            raise KeyboardInterrupt
        flag.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass(frozen=True)
class Checkpoint:
    """A saved model at a rollout boundary, and its reward-normalization statistics."""

    model: Path
    steps: int
    vecnormalize: Path | None = None


@dataclass
class Resume:
    """Where an interrupted training continues: its checkpoint, the learning curve so far
    (rows up to the checkpoint) and the seed of the environment's new episodes."""

    checkpoint: Checkpoint
    curve: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0


def _checkpoint_paths(folder: Path, prefix: str, steps: int) -> tuple[Path, Path]:
    return (
        folder / f"{prefix}_{steps}_steps.zip",
        folder / f"{prefix}_vecnormalize_{steps}_steps.pkl",
    )


def unreadable(checkpoint: Checkpoint) -> str | None:
    """Why ``checkpoint`` cannot be loaded (a truncated or corrupt file), or None.

    The model must be a complete zip holding SB3's ``data`` and ``policy.pth`` (every
    member's CRC checked), and its reward-normalization statistics, if any, must unpickle.
    """
    try:
        with zipfile.ZipFile(checkpoint.model) as archive:
            damaged = archive.testzip()
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile, EOFError) as err:
        return f"{checkpoint.model.name} is not a readable zip file ({err})"
    if damaged is not None:
        return f"{checkpoint.model.name} has a corrupt member {damaged!r}"
    if not {"data", "policy.pth"} <= names:
        return f"{checkpoint.model.name} is not a saved model (no data or policy.pth)"
    if checkpoint.vecnormalize is not None:
        try:
            with checkpoint.vecnormalize.open("rb") as handle:
                pickle.load(handle)
        except Exception as err:  # noqa: BLE001 - any unpickling failure means unreadable
            return f"{checkpoint.vecnormalize.name} cannot be read ({type(err).__name__})"
    return None


def latest_checkpoint(
    folder: Path, prefix: str, rollout: int, bad: list[str] | None = None
) -> Checkpoint | None:
    """The readable checkpoint with the most steps in ``folder`` (None if there is none).

    A truncated or corrupt one (:func:`unreadable`: a run killed while saving it, a full
    disk) is named in a warning and the one before it is tried; ``bad`` (if given)
    collects why each was passed over. A checkpoint from SB3's own ``CheckpointCallback``
    may lie inside a rollout; its weights are those of the rollout's start, so its steps
    are rounded down to it.
    """
    pattern = re.compile(rf"^{re.escape(prefix)}_(\d+)_steps\.zip$")
    found = []
    for path in Path(folder).glob(f"{prefix}_*_steps.zip") if Path(folder).is_dir() else []:
        match = pattern.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    for steps, path in sorted(found, reverse=True):
        stats = _checkpoint_paths(Path(folder), prefix, steps)[1]
        checkpoint = Checkpoint(
            path, steps // rollout * rollout, stats if stats.is_file() else None
        )
        why = unreadable(checkpoint)
        if why is None:
            return checkpoint
        print(f"warning: checkpoint {path}: {why}; trying an earlier one", file=sys.stderr)
        if bad is not None:
            bad.append(why)
    return None


class RolloutCheckpoints(BaseCallback):
    """Checkpoints at rollout boundaries every ``every`` agent-steps, and Ctrl-C.

    With ``stop`` set, training ends at the next step; :attr:`interrupted` is then True,
    :attr:`steps_done` is the step count of the last completed rollout and a checkpoint of
    it is saved (the weights have not changed since).
    """

    def __init__(self, folder: Path | None, prefix: str, every: int, stop: StopFlag | None):
        super().__init__()
        self.folder = None if folder is None else Path(folder)
        self.prefix = prefix
        self.every = every
        self.stop = stop
        self.steps_done = 0
        self.interrupted = False
        self._next = 0

    def _on_training_start(self) -> None:
        self.steps_done = self.num_timesteps
        self._next = (self.num_timesteps // self.every + 1) * self.every if self.every else 0

    def save(self) -> Checkpoint | None:
        """Save the model as of :attr:`steps_done` (call at a rollout boundary)."""
        if self.folder is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        model_path, stats_path = _checkpoint_paths(self.folder, self.prefix, self.steps_done)
        steps = self.model.num_timesteps
        self.model.num_timesteps = self.steps_done
        try:
            save_atomic(model_path, self.model.save)
        finally:
            self.model.num_timesteps = steps
        normalizer = self.model.get_vec_normalize_env()
        if isinstance(normalizer, VecNormalize):
            save_atomic(stats_path, lambda tmp: normalizer.save(str(tmp)))
            return Checkpoint(model_path, self.steps_done, stats_path)
        return Checkpoint(model_path, self.steps_done)

    def _on_rollout_start(self) -> None:
        self.steps_done = self.num_timesteps
        if self.every and self.num_timesteps >= self._next:
            self.save()
            self._next = (self.num_timesteps // self.every + 1) * self.every

    def _on_step(self) -> bool:
        if self.stop is not None and self.stop.is_set:
            self.interrupted = True
            return False
        return True

    def _on_training_end(self) -> None:
        if self.interrupted:
            self.save()
            return
        self.steps_done = self.num_timesteps  # the last rollout was trained on: a boundary
        if self.every and self.num_timesteps >= self._next:
            self.save()
