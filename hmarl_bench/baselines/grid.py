"""Grid search of a rule's levels: the tuning of the suite's original ``tuned_*`` rules.

Every candidate of the grid runs on every tuning seed in batched passes
(:func:`~hmarl_bench.baselines.batch.score_candidates`), scored by its mean total cost; the
scores equal one :func:`~hmarl_bench.evaluation.evaluate` pass per candidate bit for bit,
so the chosen levels are the ones the one-candidate-at-a-time search chose. Continuous
search over the new families' levels is :mod:`hmarl_bench.baselines.search`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hmarl_bench.baselines.batch import score_candidates
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import ChainController

__all__ = ["tune", "tuning_table"]


def tune(
    policy_cls: Callable[..., ChainController],
    scenario: Scenario | str,
    seeds: Sequence[int],
    grid: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Grid search of ``policy_cls``'s keyword arguments minimizing mean ``total_cost``.

    Each candidate ``policy_cls(**params)`` runs one episode per seed in ``seeds`` (many
    candidates per batched pass); nothing else is evaluated, so pass training seeds only.
    ``grid`` defaults to ``policy_cls.tuning_grid(scenario)``, whose first candidate ``{}``
    is the untuned rule. Ties go to the earlier candidate.

    Returns ``(best_params, table)``: the table has one row per candidate, its keyword
    arguments (levels as tuples of units), ``mean_total_cost`` and ``std_total_cost``
    [currency per episode] and a ``best`` flag.
    """
    scenario = load_scenario(scenario)
    seeds = [int(k) for k in seeds]
    if not seeds:
        raise ValueError("tune needs at least one seed")
    if grid is None:
        grid = policy_cls.tuning_grid(scenario)
    if not grid:
        raise ValueError("tune needs a non-empty grid")
    costs = score_candidates(policy_cls, scenario, seeds, grid)
    best, table = tuning_table(grid, costs)
    return dict(grid[best]), table


def tuning_table(
    grid: Sequence[Mapping[str, Any]], costs: Sequence[Sequence[float]]
) -> tuple[int, pd.DataFrame]:
    """The best candidate's index and :func:`tune`'s table, from each candidate's total
    cost on each seed (``costs[i][j]``: candidate ``i``, seed ``j``); shared with the
    harness, which scores the candidates episode by episode on other workers."""
    rows = []
    for params, episode_costs in zip(grid, costs, strict=True):
        column = pd.Series(episode_costs)  # pandas' mean and std, as on evaluate's frame
        rows.append(
            {
                **{k: _plain(v) for k, v in params.items()},
                "mean_total_cost": float(column.mean()),
                "std_total_cost": float(column.std(ddof=0)),
            }
        )
    table = pd.DataFrame(rows)
    best = int(np.argmin(table["mean_total_cost"].to_numpy()))
    table["best"] = np.arange(len(table)) == best
    return best, table


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray | list | tuple):
        return tuple(int(v) for v in value)
    return value
