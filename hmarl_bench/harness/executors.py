"""Executors: run tasks and hand each outcome back to the driver as soon as it finishes.

A task is a whole cell or one of a split cell's units (:mod:`hmarl_bench.harness.units`);
:func:`~hmarl_bench.harness.units.execute_task` runs either. The driver's callback may
return more tasks (a tuned cell's evaluation units once its tuning units are stored),
which join the same pool: every worker stays busy while any cell has work left.

- :class:`LocalExecutor`: ``workers=1`` runs tasks one by one in this process; more
  workers use a :class:`concurrent.futures.ProcessPoolExecutor` (spawn context).
- :class:`RayExecutor`: every task is a Ray task (``num_cpus=1``). With an ``address`` it
  joins a running cluster (whose nodes must have the same ``hmarl_bench`` code and
  libraries installed: a unit refuses to run under another fingerprint); without one it
  starts a local instance with ``workers`` CPUs and shuts it down at the end. Ray places
  each task on any node with a free CPU, so a cluster's CPUs all share one cell's units.

Executors only run tasks: the driver stores each outcome through the callback, so results
from a remote node land in the driver's results folder. An interrupt (Ctrl-C) cancels the
tasks not yet finished and propagates; the finished ones are already stored.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Protocol

from hmarl_bench.harness.cells import Cell, CellOutcome
from hmarl_bench.harness.units import Unit, UnitOutcome, execute_task

__all__ = ["EXECUTORS", "CellExecutor", "LocalExecutor", "RayExecutor", "make_executor"]

Task = Cell | Unit
Outcome = CellOutcome | UnitOutcome
#: The driver's callback: stores an outcome, and may return more tasks to run.
OnOutcome = Callable[[Outcome], Iterable[Task] | None]

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class CellExecutor(Protocol):
    def run(self, cells: Sequence[Task], on_outcome: OnOutcome) -> None:
        """Run every task (and those ``on_outcome`` returns); call ``on_outcome`` in the
        driver as each one finishes."""
        ...


def _single_threaded_worker() -> None:
    """Pool initializer: one BLAS/torch thread per worker (workers already share cores)."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"


def _lost(task: Task, err: BaseException) -> Outcome:
    """An outcome for a task whose worker failed outside it (crashed, was killed)."""
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    error = f"worker failed: {type(err).__name__}: {err}"
    if isinstance(task, Unit):
        return UnitOutcome(task, error=error, traceback=text)
    return CellOutcome(task, error=error, traceback=text)


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

    def run(self, cells: Sequence[Task], on_outcome: OnOutcome) -> None:
        if self.workers == 1:
            queue = deque(cells)
            while queue:
                queue.extend(on_outcome(execute_task(queue.popleft())) or ())
            return
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_single_threaded_worker,
        )
        pending: dict[Future[Outcome], Task] = {}
        try:
            pending = {pool.submit(execute_task, task): task for task in cells}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as err:  # the worker process died
                        outcome = _lost(task, err)
                    for more in on_outcome(outcome) or ():
                        pending[pool.submit(execute_task, more)] = more
        finally:
            if pending:  # interrupted: stop the tasks in flight instead of waiting for them
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

    def run(self, cells: Sequence[Task], on_outcome: OnOutcome) -> None:
        if not cells:
            return
        ray, started = self._init()
        remote = ray.remote(num_cpus=1, max_retries=0)(execute_task)
        pending = {}
        try:
            pending = {remote.remote(task): task for task in cells}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task = pending.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except Exception as err:  # the task's worker died or was lost
                        outcome = _lost(task, err)
                    for more in on_outcome(outcome) or ():
                        pending[remote.remote(more)] = more
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
