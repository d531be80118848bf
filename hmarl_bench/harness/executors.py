"""Executors: run cells and hand each outcome back to the driver as soon as it finishes.

- :class:`LocalExecutor`: ``workers=1`` runs cells one by one in this process; more
  workers use a :class:`concurrent.futures.ProcessPoolExecutor` (spawn context).
- :class:`RayExecutor`: every cell is a Ray task (``num_cpus=1``). With an ``address`` it
  joins a running cluster (whose nodes must have ``hmarl_bench`` installed); without one it
  starts a local instance with ``workers`` CPUs and shuts it down at the end.

Executors only run cells: the driver stores each outcome through the callback, so results
from a remote node land in the driver's results folder. An interrupt (Ctrl-C) cancels the
cells not yet finished and propagates; the finished ones are already stored.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Protocol

from hmarl_bench.harness.cells import Cell, CellOutcome
from hmarl_bench.harness.runners import execute_cell

__all__ = ["EXECUTORS", "CellExecutor", "LocalExecutor", "RayExecutor", "make_executor"]

OnOutcome = Callable[[CellOutcome], None]

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class CellExecutor(Protocol):
    def run(self, cells: Sequence[Cell], on_outcome: OnOutcome) -> None:
        """Run every cell; call ``on_outcome`` in the driver as each one finishes."""
        ...


def _single_threaded_worker() -> None:
    """Pool initializer: one BLAS/torch thread per worker (workers already share cores)."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"


def _lost(cell: Cell, err: BaseException) -> CellOutcome:
    """An outcome for a cell whose worker failed outside the cell (crashed, was killed)."""
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    return CellOutcome(cell, error=f"worker failed: {type(err).__name__}: {err}", traceback=text)


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes (Python 3.14 has ``terminate_workers``)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


class LocalExecutor:
    """Cells on this machine: in-process for one worker, else a spawn process pool."""

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers

    def run(self, cells: Sequence[Cell], on_outcome: OnOutcome) -> None:
        if self.workers == 1 or len(cells) <= 1:
            for cell in cells:
                on_outcome(execute_cell(cell))
            return
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(cells)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_single_threaded_worker,
        )
        pending: dict[Future[CellOutcome], Cell] = {}
        try:
            pending = {pool.submit(execute_cell, cell): cell for cell in cells}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    cell = pending.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as err:  # the worker process died
                        outcome = _lost(cell, err)
                    on_outcome(outcome)
        finally:
            if pending:  # interrupted: stop the cells in flight instead of waiting for them
                _terminate_workers(pool)
            pool.shutdown(wait=not pending, cancel_futures=True)


class RayExecutor:
    """Cells as Ray tasks, on a cluster at ``address`` or on a local instance."""

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.address = address

    def _init(self):
        try:
            import ray
        except ImportError as err:
            raise RuntimeError(
                "the ray executor needs Ray: pip install 'hmarl_bench[ray]' (ray>=2.9)"
            ) from err
        if ray.is_initialized():
            return ray, False
        options = {"include_dashboard": False, "log_to_driver": False, "logging_level": "WARNING"}
        if self.address:
            ray.init(address=self.address, **options)
        else:
            env = {"env_vars": dict.fromkeys(_THREAD_VARIABLES, "1")}
            ray.init(num_cpus=self.workers, runtime_env=env, **options)
        return ray, True

    def run(self, cells: Sequence[Cell], on_outcome: OnOutcome) -> None:
        if not cells:
            return
        ray, started = self._init()
        task = ray.remote(num_cpus=1, max_retries=0)(execute_cell)
        pending = {}
        try:
            pending = {task.remote(cell): cell for cell in cells}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    cell = pending.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except Exception as err:  # the task's worker died or was lost
                        outcome = _lost(cell, err)
                    on_outcome(outcome)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            if started:
                ray.shutdown()


#: Executor classes by their command-line name.
EXECUTORS: dict[str, type] = {"local": LocalExecutor, "ray": RayExecutor}


def make_executor(name: str, workers: int = 1, address: str | None = None) -> CellExecutor:
    """The executor called ``name`` (``local`` or ``ray``)."""
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; choose one of {sorted(EXECUTORS)}")
    if name == "ray":
        return RayExecutor(workers, address)
    if address:
        raise ValueError("--address is for the ray executor only")
    return LocalExecutor(workers)
