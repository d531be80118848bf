"""Stable baseline names -> constructors, and :func:`make_baseline`.

A constructor is ``(scenario, tuning_seeds, seed) -> ChainController``. Untuned rules take
their levels from the scenario; ``tuned_*`` rules tune on ``tuning_seeds`` (training seeds,
never evaluation seeds) and carry ``tuned_params`` and ``tuning_table`` for the harness.
Tuning results are cached per (policy, scenario, seeds): the harness builds a policy per
cell.
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
from hmarl_bench.baselines.grid import tune
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import ChainController

__all__ = ["BASELINES", "make_baseline"]


@functools.lru_cache(maxsize=64)
def _tuned_params(
    policy_cls: type, scenario: Scenario, seeds: tuple[int, ...]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """:func:`tune` with its default grid, cached."""
    return tune(policy_cls, scenario, seeds)


def _untuned(policy_cls: Callable[[], ChainController]) -> Callable[..., ChainController]:
    def build(scenario: Scenario, tuning_seeds: Sequence[int], seed: int = 0) -> ChainController:
        return policy_cls()

    build.__doc__ = f"{policy_cls.__name__} with its untuned (seed) levels."
    return build


def _tuned(policy_cls: type) -> Callable[..., ChainController]:
    def build(scenario: Scenario, tuning_seeds: Sequence[int], seed: int = 0) -> ChainController:
        params, table = _tuned_params(
            policy_cls, load_scenario(scenario), tuple(int(k) for k in tuning_seeds)
        )
        policy = policy_cls(**params)
        policy.tuned_params = dict(params)  # what the harness reports
        policy.tuning_table = table.copy()
        return policy

    build.__doc__ = f"{policy_cls.__name__} with levels tuned by :func:`tune` on tuning_seeds."
    return build


def _random(scenario: Scenario, tuning_seeds: Sequence[int], seed: int = 0) -> ChainController:
    """RandomPolicy drawing from ``seed``."""
    return RandomPolicy(seed)


#: Stable baseline names -> constructors ``(scenario, tuning_seeds, seed) -> ChainController``.
BASELINES: dict[str, Callable[..., ChainController]] = {
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
}


def make_baseline(
    name: str, scenario: Scenario | str, tuning_seeds: Sequence[int], seed: int = 0
) -> ChainController:
    """Build the baseline ``name`` for ``scenario``.

    Tuned variants tune on ``tuning_seeds`` (training seeds: never the evaluation seeds)
    and carry ``tuned_params`` and ``tuning_table``. ``seed`` seeds the random policy.
    Raises ``ValueError`` listing the known names for an unknown ``name``.
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {sorted(BASELINES)}")
    return BASELINES[name](load_scenario(scenario), tuning_seeds, seed)
