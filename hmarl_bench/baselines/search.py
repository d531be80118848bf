"""Tuning that searches: continuous levels optimized on common random numbers.

A rule family (:class:`~hmarl_bench.baselines.chain_rule.LevelChain`) declares its tunable
parameters with bounds and untuned values. :func:`search` minimizes the mean total cost over
the tuning seeds by

1. scoring the untuned rule (the search starts there, and a candidate replaces the
   incumbent only when strictly cheaper, so the tuned rule is never worse than the untuned
   one on the tuning seeds);
2. a random phase: a quarter of the budget, half drawn uniformly inside the bounds, half
   around the untuned rule;
3. a local phase until the budget is spent: :data:`STARTS` local searches side by side,
   from the untuned rule and from the best random candidates (the cost surface has several
   valleys). Each generation tries, around each search's point, every coordinate moved by
   +-1/4, 1/2, 1 and 2 steps, plus Gaussian moves of all coordinates at once; a search's
   steps (one per coordinate, starting at a quarter of its range) grow by 1.5 after it
   improved and halve after it did not. The best point of all is the result.

Every generation is one batched twin pass (:func:`~hmarl_bench.baselines.batch.score_candidates`:
all candidates x all seeds, each candidate facing the same episodes), so differences between
candidates are not drowned in demand noise, and thousands of candidate-episodes run per
second. The budget is counted in candidate-episodes (candidates x seeds).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hmarl_bench.baselines.batch import score_candidates
from hmarl_bench.baselines.chain_rule import LevelChain, Parameter
from hmarl_bench.config import Scenario, load_scenario

__all__ = ["SearchBudget", "SearchResult", "search"]

#: Candidates per generation of the local phase (one batched pass each, split among the
#: workers); fixed, so the search does not depend on the number of workers.
GENERATION = 1024
#: Local searches run side by side: from the untuned rule and the best random candidates.
STARTS = 4
#: Coordinate moves tried per coordinate and generation, in steps.
COORDINATE_MOVES = (-2.0, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class SearchBudget:
    """How long a search may run: ``candidate_episodes`` (candidates x tuning seeds) in all,
    the ``seed`` of the optimizer's own random draws (not the episodes'), and the
    ``workers`` (processes) that score each generation side by side. The result does not
    depend on ``workers``."""

    candidate_episodes: int = 200_000
    seed: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        if self.candidate_episodes < 1:
            raise ValueError(f"candidate_episodes must be >= 1, got {self.candidate_episodes}")
        if self.seed < 0:
            raise ValueError(f"the search seed must be >= 0, got {self.seed}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")


@dataclass
class SearchResult:
    """The best parameters found and how the search got there.

    ``params``: the best keyword arguments (arrays of each parameter's shape);
    ``start_cost`` / ``best_cost``: mean total cost on the tuning seeds of the untuned and
    the tuned rule [currency per episode]; ``trace``: one row per generation (phase,
    candidates so far, the generation's best, the best so far, the step scale, and the
    incumbent's parameters); ``candidate_episodes`` run in ``seconds``.
    """

    params: dict[str, np.ndarray]
    start_cost: float
    best_cost: float
    trace: pd.DataFrame
    candidate_episodes: int
    seconds: float

    @property
    def candidate_episodes_per_second(self) -> float:
        return self.candidate_episodes / max(self.seconds, 1e-9)

    def plain_params(self) -> dict[str, Any]:
        """``params`` as JSON-ready numbers and lists."""
        return {k: v.tolist() for k, v in self.params.items()}


class _Space:
    """A family's parameters as one flat vector in a box."""

    def __init__(self, specs: list[Parameter], scenario: Scenario) -> None:
        self.specs = specs
        self.shapes = [spec.shape(scenario) for spec in specs]
        self.sizes = [int(np.prod(shape)) for shape in self.shapes]
        bounds = [spec.bounds(scenario) for spec in specs]
        self.low = np.concatenate([low.ravel() for low, _ in bounds])
        self.high = np.concatenate([high.ravel() for _, high in bounds])
        self.start = np.concatenate([spec.initial(scenario).ravel() for spec in specs])
        self.names = [
            spec.name if size == 1 and shape == () else f"{spec.name}[{i}]"
            for spec, shape, size in zip(specs, self.shapes, self.sizes, strict=True)
            for i in range(size)
        ]

    def params(self, x: np.ndarray) -> dict[str, np.ndarray]:
        out, at = {}, 0
        for spec, shape, size in zip(self.specs, self.shapes, self.sizes, strict=True):
            out[spec.name] = x[at : at + size].reshape(shape).copy()
            at += size
        return out

    def clip(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.low, self.high)


def search(
    policy_cls: type[LevelChain],
    scenario: Scenario | str,
    seeds: Sequence[int],
    budget: SearchBudget | None = None,
) -> SearchResult:
    """Minimize ``policy_cls``'s mean total cost on ``seeds`` over its parameters.

    Pass tuning seeds only (never evaluation seeds). See the module docstring for the
    method; the result is deterministic given the budget (its seed included).
    """
    scenario = load_scenario(scenario)
    budget = budget or SearchBudget()
    seeds = [int(k) for k in seeds]
    if not seeds:
        raise ValueError("search needs at least one tuning seed")
    space = _Space(policy_cls.parameters(scenario), scenario)
    rng = np.random.default_rng(budget.seed)
    started = time.perf_counter()
    total = max(budget.candidate_episodes // len(seeds), 1)
    span = space.high - space.low
    rows: list[dict[str, Any]] = []
    state = {"used": 0, "x": space.start, "cost": np.inf}

    def run(phase: str, xs: np.ndarray, step: float) -> np.ndarray:
        """Score candidates ``xs`` (clipped to the box); keep the best; log a generation."""
        xs = space.clip(xs)
        costs = score_candidates(
            policy_cls,
            scenario,
            seeds,
            [space.params(x) for x in xs],
            executor=executor,
            workers=budget.workers,
        )
        means = costs.mean(axis=1)
        state["used"] += len(xs)
        best = int(np.argmin(means))
        if means[best] < state["cost"]:  # strictly better only: ties keep the incumbent
            state["x"], state["cost"] = xs[best], float(means[best])
        rows.append(
            {
                "generation": len(rows),
                "phase": phase,
                "candidates": state["used"],
                "generation_best": float(means[best]),
                "best_mean_total_cost": state["cost"],
                "step": step,
                **dict(zip(space.names, state["x"].tolist(), strict=True)),
            }
        )
        return means

    with _pool(budget.workers) as executor:
        run("start", space.start[None, :], 0.0)
        start_cost = state["cost"]
        starts = [(space.start, start_cost)]
        n_random = min(total - state["used"], max(total // 4, 0))
        if n_random > 0:
            uniform = rng.uniform(space.low, space.high, size=(n_random // 2, space.low.size))
            around = space.start + rng.normal(size=(n_random - len(uniform), space.low.size)) * (
                span / 4
            )
            xs = space.clip(np.vstack([uniform, around]))
            means = run("random", xs, 1.0)
            order = np.argsort(means, kind="stable")[: STARTS - 1]
            starts += [(xs[i], float(means[i])) for i in order]
        # local searches from the untuned rule and the best random candidates, side by side
        local = [{"x": x, "cost": cost, "scale": 1.0} for x, cost in starts]
        step = span / 4
        while state["used"] < total:
            active = [s for s in local if s["scale"] > 1e-4]
            if not active:
                break
            size = min(GENERATION, total - state["used"])
            share = max(size // len(active), 1)
            blocks = [_local_candidates(s["x"], step * s["scale"], share, rng) for s in active]
            blocks = [space.clip(block) for block in blocks][: max(size, 1)]
            means = run(
                "local", np.vstack(blocks)[:size], float(np.mean([s["scale"] for s in active]))
            )
            at = 0
            for search_state, block in zip(active, blocks, strict=False):
                block_means = means[at : at + len(block)]
                at += len(block)
                if not len(block_means):
                    continue
                best = int(np.argmin(block_means))
                if block_means[best] < search_state["cost"]:
                    search_state.update(x=block[best], cost=float(block_means[best]))
                    search_state["scale"] *= 1.5
                else:
                    search_state["scale"] *= 0.5
    return SearchResult(
        params=space.params(state["x"]),
        start_cost=start_cost,
        best_cost=state["cost"],
        trace=pd.DataFrame(rows),
        candidate_episodes=state["used"] * len(seeds),
        seconds=time.perf_counter() - started,
    )


@contextlib.contextmanager
def _pool(workers: int) -> Iterator[Executor | None]:
    """Worker processes for the search's generations (none for one worker)."""
    if workers <= 1:
        yield None
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        yield executor


def _local_candidates(
    x: np.ndarray, step: np.ndarray, size: int, rng: np.random.Generator
) -> np.ndarray:
    """Coordinate moves of ``x`` (each coordinate by :data:`COORDINATE_MOVES` steps), then
    Gaussian moves of every coordinate (std = step) up to ``size`` candidates."""
    dims = x.size
    moves = np.asarray(COORDINATE_MOVES)
    coordinate = np.repeat(x[None, :], dims * len(moves), axis=0)
    rows = np.arange(dims * len(moves))
    coordinate[rows, rows // len(moves)] += np.tile(moves, dims) * np.repeat(step, len(moves))
    coordinate = coordinate[step[rows // len(moves)] > 0]
    if len(coordinate) >= size:
        return coordinate[rng.permutation(len(coordinate))[:size]]
    gaussian = x + rng.normal(size=(size - len(coordinate), dims)) * step
    return np.vstack([coordinate, gaussian])
