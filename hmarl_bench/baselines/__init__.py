"""Rule-based baselines for the whole chain, their tuning, and the rolling-horizon MILP.

One module per concern:

- :mod:`~hmarl_bench.baselines.levels`: nominal demand, cover windows, per-copy parameters;
- :mod:`~hmarl_bench.baselines.classic`: the suite's original rules (the seed's (s, S),
  order-up-to, fixed forecast, random), through the store actions or free quantities;
- :mod:`~hmarl_bench.baselines.batch` and :mod:`~hmarl_bench.baselines.grid`: many
  candidates x tuning seeds in one batched twin pass; the grid search of the original rules;
- :mod:`~hmarl_bench.baselines.registry`: :data:`BASELINES` and :func:`make_baseline`.

Every policy is a :class:`~hmarl_bench.evaluation.ChainController` reading a
:class:`~hmarl_bench.twin.view.ChainView`: what a real controller has, never the episode's
pre-drawn demand.
"""

from __future__ import annotations

from hmarl_bench.baselines.classic import (
    FixedForecastActions,
    OrderUpToActions,
    OrderUpToFree,
    RandomPolicy,
    SeedSSActions,
    SeedSSFree,
)
from hmarl_bench.baselines.grid import tune
from hmarl_bench.baselines.levels import base_stock_levels, nominal_demand
from hmarl_bench.baselines.registry import BASELINES, make_baseline

__all__ = [
    "BASELINES",
    "FixedForecastActions",
    "OrderUpToActions",
    "OrderUpToFree",
    "RandomPolicy",
    "SeedSSActions",
    "SeedSSFree",
    "base_stock_levels",
    "make_baseline",
    "nominal_demand",
    "tune",
]
