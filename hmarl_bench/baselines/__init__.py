"""Rule-based baselines for the whole chain, their tuning, and the rolling-horizon MILP.

One module per concern:

- :mod:`~hmarl_bench.baselines.levels`: nominal demand, cover windows, per-copy parameters;
- :mod:`~hmarl_bench.baselines.classic`: the suite's original rules (the seed's (s, S),
  order-up-to, fixed forecast, random), through the store actions or free quantities;
- :mod:`~hmarl_bench.baselines.chain_rule`: the frame of the new families ((s, S) at every
  node, horizon cut-offs, tunable parameters);
- :mod:`~hmarl_bench.baselines.echelon`: echelon base-stock and (s, S) at the warehouse,
  Clark-Scarf style, with fixed levels;
- :mod:`~hmarl_bench.baselines.forecast`: forecast-following per-store levels;
- :mod:`~hmarl_bench.baselines.frontier`: the combination (``echelon_free``,
  ``echelon_actions``);
- :mod:`~hmarl_bench.baselines.chain_milp` and :mod:`~hmarl_bench.baselines.mpc`: the
  chain's MILP (shared with the clairvoyant bound) and the rolling-horizon controller;
- :mod:`~hmarl_bench.baselines.batch`, :mod:`~hmarl_bench.baselines.grid` and
  :mod:`~hmarl_bench.baselines.search`: many candidates x tuning seeds in one batched twin
  pass; the grid search of the original rules; the continuous search of the new families;
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
from hmarl_bench.baselines.echelon import EchelonBaseStockFree, EchelonSSFree
from hmarl_bench.baselines.forecast import ForecastSSFree
from hmarl_bench.baselines.frontier import EchelonActions, EchelonFree
from hmarl_bench.baselines.grid import tune
from hmarl_bench.baselines.levels import base_stock_levels, nominal_demand
from hmarl_bench.baselines.mpc import RollingHorizonMILP
from hmarl_bench.baselines.registry import BASELINES, MILP_BASELINES, SEARCHED, make_baseline
from hmarl_bench.baselines.search import SearchBudget, SearchResult, search

__all__ = [
    "BASELINES",
    "MILP_BASELINES",
    "SEARCHED",
    "EchelonActions",
    "EchelonBaseStockFree",
    "EchelonFree",
    "EchelonSSFree",
    "FixedForecastActions",
    "ForecastSSFree",
    "OrderUpToActions",
    "OrderUpToFree",
    "RandomPolicy",
    "RollingHorizonMILP",
    "SearchBudget",
    "SearchResult",
    "SeedSSActions",
    "SeedSSFree",
    "base_stock_levels",
    "make_baseline",
    "nominal_demand",
    "search",
    "tune",
]
