"""Score many candidate parameter sets x tuning seeds in one batched twin pass.

A candidate is a dict of a rule's keyword arguments. Candidates with the same keys are
stacked into per-copy parameters (a leading batch axis, one block of ``len(seeds)`` copies
per candidate) and run together by :func:`~hmarl_bench.evaluation.total_costs`, which gives
every block the same episodes (common random numbers) and the same total cost, bit for bit,
as evaluating that candidate alone with :func:`~hmarl_bench.evaluation.evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from hmarl_bench.config import Scenario
from hmarl_bench.evaluation import ChainController, total_costs

__all__ = ["MAX_COPIES", "score_candidates"]

#: Copies per batched pass: large enough to amortize numpy's per-call cost, small enough
#: for the arrays to stay in cache-friendly sizes (and memory: T x copies x slots demand).
MAX_COPIES = 8192


def score_candidates(
    policy_cls: Callable[..., ChainController],
    scenario: Scenario,
    seeds: Sequence[int],
    candidates: Sequence[Mapping[str, Any]],
    max_copies: int = MAX_COPIES,
    executor: Executor | None = None,
    workers: int = 1,
) -> np.ndarray:
    """Total cost of every candidate on every seed, (len(candidates), len(seeds)).

    Candidates sharing the same keyword names run together, in passes of at most
    ``max_copies`` copies; ``{}`` (the rule's defaults) runs in a pass of its own. With an
    ``executor`` of ``workers`` processes the candidates are split into that many parts
    scored side by side (the scores are the same: every pass is deterministic).
    """
    if executor is not None and workers > 1 and len(candidates) > 1:
        parts = np.array_split(np.arange(len(candidates)), min(workers, len(candidates)))
        futures = [
            executor.submit(
                score_candidates,
                policy_cls,
                scenario,
                seeds,
                [candidates[i] for i in part],
                max_copies,
            )
            for part in parts
        ]
        return np.vstack([future.result() for future in futures])
    seeds = [int(k) for k in seeds]
    n_seeds = len(seeds)
    costs = np.empty((len(candidates), n_seeds))
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, params in enumerate(candidates):
        groups.setdefault(tuple(sorted(params)), []).append(index)
    per_pass = max(1, max_copies // n_seeds)
    for names, members in groups.items():
        for first in range(0, len(members), per_pass):
            chunk = members[first : first + per_pass]
            params = {
                name: _stacked([candidates[i][name] for i in chunk], n_seeds) for name in names
            }
            if len(chunk) == 1:  # one candidate: its own values, for every copy
                params = dict(candidates[chunk[0]])
            totals = total_costs(scenario, policy_cls(**params), seeds, repeats=len(chunk))
            costs[chunk] = totals.reshape(len(chunk), n_seeds)
    return costs


def _stacked(values: list[Any], n_seeds: int) -> np.ndarray:
    """Candidates' values of one parameter, each repeated for its block of seeds."""
    return np.repeat(np.stack([np.asarray(v) for v in values]), n_seeds, axis=0)
