"""Stable baseline names -> constructors, and :func:`make_baseline`.

A constructor is ``(scenario, tuning_seeds, seed=0, budget=None) -> ChainController``.
Untuned rules take their levels from the scenario; ``tuned_*`` rules tune on
``tuning_seeds`` (training seeds, never evaluation seeds) and carry ``tuned_params`` and
``tuning_table`` (and, for the searched families, ``tuning_info``) for the harness:

- the suite's original rules, ``tuned_mpc_free`` and ``tuned_mpc_fast_free`` search a fixed
  grid (:func:`tune`);
- the new families (:data:`SEARCHED`) run :func:`~hmarl_bench.baselines.search.search`
  with ``budget`` (the benchmark's ``[tuning]`` table; a default budget otherwise).

The untuned and grid-tuned builders carry ``rule_class`` and ``grid_tuned``: what
:mod:`hmarl_bench.harness.units` needs to run such a cell as separate episodes.

Tuning results are cached per (policy, scenario, seeds, budget): the harness builds a
policy per cell.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

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
from hmarl_bench.baselines.mpc import RollingHorizonMILP
from hmarl_bench.baselines.mpc_fast import FastRollingHorizonMILP
from hmarl_bench.baselines.search import SearchBudget, SearchResult, search
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import ChainController

__all__ = ["BASELINES", "MILP_BASELINES", "SEARCHED", "make_baseline"]

Builder = Callable[..., ChainController]


@functools.lru_cache(maxsize=64)
def _tuned_params(
    policy_cls: type, scenario: Scenario, seeds: tuple[int, ...]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """:func:`tune` with its default grid, cached."""
    return tune(policy_cls, scenario, seeds)


@functools.lru_cache(maxsize=64)
def _searched(
    policy_cls: type, scenario: Scenario, seeds: tuple[int, ...], budget: SearchBudget
) -> SearchResult:
    """:func:`search`, cached."""
    return search(policy_cls, scenario, seeds, budget)


def _untuned(policy_cls: Callable[[], ChainController]) -> Builder:
    def build(
        scenario: Scenario,
        tuning_seeds: Sequence[int],
        seed: int = 0,
        budget: SearchBudget | None = None,
    ) -> ChainController:
        return policy_cls()

    build.__doc__ = f"{policy_cls.__name__} with its untuned levels."
    build.rule_class, build.grid_tuned = policy_cls, False  # what harness units rebuild
    return build


def _tuned(policy_cls: type) -> Builder:
    def build(
        scenario: Scenario,
        tuning_seeds: Sequence[int],
        seed: int = 0,
        budget: SearchBudget | None = None,
    ) -> ChainController:
        params, table = _tuned_params(
            policy_cls, load_scenario(scenario), tuple(int(k) for k in tuning_seeds)
        )
        policy = policy_cls(**params)
        policy.tuned_params = dict(params)  # what the harness reports
        policy.tuning_table = table.copy()
        return policy

    build.__doc__ = f"{policy_cls.__name__} with levels tuned by :func:`tune` on tuning_seeds."
    build.rule_class, build.grid_tuned = policy_cls, True  # what harness units rebuild
    return build


def _search(policy_cls: type) -> Builder:
    def build(
        scenario: Scenario,
        tuning_seeds: Sequence[int],
        seed: int = 0,
        budget: SearchBudget | None = None,
    ) -> ChainController:
        result = _searched(
            policy_cls,
            load_scenario(scenario),
            tuple(int(k) for k in tuning_seeds),
            budget or SearchBudget(),
        )
        policy = policy_cls(**result.params)
        policy.tuned_params = result.plain_params()
        policy.tuning_table = result.trace.copy()
        policy.tuning_info = {
            "untuned_mean_total_cost": result.start_cost,
            "tuned_mean_total_cost": result.best_cost,
            "candidate_episodes": result.candidate_episodes,
            "search_seconds": result.seconds,
            "candidate_episodes_per_second": result.candidate_episodes_per_second,
        }
        return policy

    build.__doc__ = (
        f"{policy_cls.__name__} with parameters searched by :func:`search` on tuning_seeds."
    )
    return build


def _random(
    scenario: Scenario,
    tuning_seeds: Sequence[int],
    seed: int = 0,
    budget: SearchBudget | None = None,
) -> ChainController:
    """RandomPolicy drawing from ``seed``."""
    return RandomPolicy(seed)


#: The families whose ``tuned_*`` variants run the continuous search (and read the
#: benchmark's ``[tuning]`` budget).
SEARCHED = {
    "tuned_echelon_base_stock_free": EchelonBaseStockFree,
    "tuned_echelon_ss_free": EchelonSSFree,
    "tuned_forecast_ss_free": ForecastSSFree,
    "tuned_echelon_free": EchelonFree,
    "tuned_echelon_actions": EchelonActions,
}
#: Baselines that solve MILPs of one SKU (like the clairvoyant bound).
MILP_BASELINES = ("mpc_free", "tuned_mpc_free", "mpc_fast_free", "tuned_mpc_fast_free")

#: Stable baseline names -> constructors ``(scenario, tuning_seeds, seed, budget)``.
BASELINES: dict[str, Builder] = {
    "random": _random,
    "seed_ss_actions": _untuned(SeedSSActions),
    "seed_ss_free": _untuned(SeedSSFree),
    "order_up_to_actions": _untuned(OrderUpToActions),
    "order_up_to_free": _untuned(OrderUpToFree),
    "fixed_forecast_actions": _untuned(FixedForecastActions),
    "tuned_order_up_to_actions": _tuned(OrderUpToActions),
    "tuned_order_up_to_free": _tuned(OrderUpToFree),
    "tuned_ss_actions": _tuned(SeedSSActions),
    "tuned_ss_free": _tuned(SeedSSFree),
    "echelon_base_stock_free": _untuned(EchelonBaseStockFree),
    "echelon_ss_free": _untuned(EchelonSSFree),
    "forecast_ss_free": _untuned(ForecastSSFree),
    "echelon_free": _untuned(EchelonFree),
    "echelon_actions": _untuned(EchelonActions),
    **{name: _search(cls) for name, cls in SEARCHED.items()},
    "mpc_free": _untuned(RollingHorizonMILP),
    "tuned_mpc_free": _tuned(RollingHorizonMILP),
    "mpc_fast_free": _untuned(FastRollingHorizonMILP),
    "tuned_mpc_fast_free": _tuned(FastRollingHorizonMILP),
}


def make_baseline(
    name: str,
    scenario: Scenario | str,
    tuning_seeds: Sequence[int],
    seed: int = 0,
    budget: SearchBudget | None = None,
) -> ChainController:
    """Build the baseline ``name`` for ``scenario``.

    Tuned variants tune on ``tuning_seeds`` (training seeds: never the evaluation seeds)
    and carry ``tuned_params`` and ``tuning_table``; ``budget`` bounds the searched
    families' tuning. ``seed`` seeds the random policy. Raises ``ValueError`` listing the
    known names for an unknown ``name``.
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {sorted(BASELINES)}")
    return BASELINES[name](load_scenario(scenario), tuning_seeds, seed, budget)
