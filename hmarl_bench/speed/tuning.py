"""(e) Tuning throughput: candidate-episodes per second of the batched search.

A candidate-episode is one candidate parameter set run for one tuning episode. The suite's
first tuner ran one :func:`~hmarl_bench.evaluation.evaluate` pass per candidate (all tuning
seeds as one batch, full reconciliation reports); it is measured here as the reference.
Ours scores many candidates x seeds per batched twin pass with the lean cost accumulator
(:func:`~hmarl_bench.baselines.batch.score_candidates`), on one or several processes, and
:func:`~hmarl_bench.baselines.search.search` runs whole searches of them.
"""

from __future__ import annotations

import math
import time

import numpy as np

from hmarl_bench.baselines.batch import MAX_COPIES, score_candidates
from hmarl_bench.baselines.frontier import EchelonFree
from hmarl_bench.baselines.search import SearchBudget, _pool, search
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import evaluate
from hmarl_bench.speed.measure import TARGETS, Measurement

__all__ = ["TUNING_SEEDS", "bench_tuning"]

#: The tuning seeds of the reference benchmark (experiments/benchmarks/default.toml).
TUNING_SEEDS = tuple(range(100, 110))


def _candidates(scenario: Scenario, count: int, seed: int = 0) -> list[dict]:
    """``count`` random parameter sets of the echelon_free family."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        params = {}
        for spec in EchelonFree.parameters(scenario):
            low, high = spec.bounds(scenario)
            params[spec.name] = rng.uniform(low, high)
        out.append(params)
    return out


def bench_tuning(
    scenario: Scenario | str = "default",
    seconds: float = 3.0,
    workers: int = 2,
    budget: int = 100_000,
) -> list[Measurement]:
    """Candidate-episodes/s: one evaluate() per candidate (reference), one batched pass on
    1 and ``workers`` processes, and a whole search of ``budget`` candidate-episodes."""
    sc = load_scenario(scenario)
    seeds = list(TUNING_SEEDS)
    per_pass = MAX_COPIES // len(seeds) * workers  # candidates of a pass (split over workers)
    candidates = _candidates(sc, per_pass)

    def rate_of(run, episodes: int) -> tuple[float, float, int]:
        """Best and median candidate-episodes/s over repeats within ``seconds``."""
        rates, start = [], time.perf_counter()
        while not rates or time.perf_counter() - start < seconds:
            begun = time.perf_counter()
            run()
            rates.append(episodes / (time.perf_counter() - begun))
        return max(rates), float(np.median(rates)), len(rates)

    reference, *_ = rate_of(
        lambda: [evaluate(sc, EchelonFree(**c), seeds) for c in candidates[:4]], 4 * len(seeds)
    )
    rows = []

    def row(name: str, n_workers: int, copies: int, rates: tuple, target: float) -> None:
        best, median, calls = rates
        rows.append(
            Measurement(
                "tuning",
                name,
                copies,
                sc.n_stores,
                copies,
                calls,
                seconds,
                best,
                median,
                unit="candidate-episodes/s",
                reference="one evaluate() per candidate",
                reference_rate=reference,
                target=target,
                skus=sc.n_skus,
                scenario=sc.name,
                workers=n_workers,
            )
        )

    single = candidates[: per_pass // workers]
    episodes = len(single) * len(seeds)
    row(
        "batched pass",
        1,
        episodes,
        rate_of(lambda: score_candidates(EchelonFree, sc, seeds, single), episodes),
        math.nan,
    )
    with _pool(workers) as executor:
        episodes = len(candidates) * len(seeds)
        rates = rate_of(
            lambda: score_candidates(
                EchelonFree, sc, seeds, candidates, executor=executor, workers=workers
            ),
            episodes,
        )
    row("batched pass", workers, episodes, rates, math.nan)
    result = search(EchelonFree, sc, seeds, SearchBudget(budget, seed=0, workers=workers))
    rate = result.candidate_episodes_per_second
    target = TARGETS.get(("tuning", "search"), math.nan)
    row("search (echelon_free)", workers, result.candidate_episodes, (rate, rate, 1), target)
    return rows
