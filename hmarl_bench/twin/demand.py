"""Customer demand: a deterministic mean profile and one sampler per distribution.

Every sampler draws from a ``np.random.Generator`` passed in; nothing here holds state.
The twin draws a whole episode of demand per copy at reset, so a policy can never change
the demand it faces (common random numbers across policies) and a clairvoyant planner
can read it in advance.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from hmarl_bench.config import Demand, Scenario

__all__ = ["DEMAND_SAMPLERS", "DemandSampler", "mean_demand", "sample_demand", "slot_multipliers"]


def slot_multipliers(scenario: Scenario) -> np.ndarray:
    """(N,) store demand multiplier x SKU demand_scale, slot ``s * K + k``."""
    stores = np.array([s.demand_multiplier for s in scenario.stores], dtype=np.float64)
    if scenario.n_skus == 1 and scenario.products[0].demand_scale == 1.0:
        return stores  # as before SKUs existed (x 1.0 would change no bit either)
    scales = np.array([k.demand_scale for k in scenario.products], dtype=np.float64)
    return (stores[:, None] * scales[None, :]).reshape(-1)


def mean_demand(scenario: Scenario) -> np.ndarray:
    """Expected demand in units/day, shape (T, N): base x season x spikes x store multiplier
    x SKU demand_scale, per store-SKU slot (per store, with one SKU).

    This is the nominal profile a planner knows in advance (the forecast's prior, the
    observation scales, the rules' levels). Hidden demand regimes are left out (multiplier
    1): it is the expected demand when their stationary mean multiplier is 1, as in every
    shipped scenario (``DemandRegimes.stationary_mean``)."""
    demand = scenario.demand
    days = np.arange(scenario.episode_days, dtype=np.float64)
    season = 1.0 + demand.seasonality_amplitude * np.sin(
        2.0 * np.pi * days / demand.seasonality_period
    )
    for spike in demand.spikes:
        active = (days >= spike.start_day) & (days < spike.start_day + spike.duration)
        season = np.where(active, season * spike.multiplier, season)
    multipliers = slot_multipliers(scenario)
    return demand.base_mean * season[:, None] * multipliers[None, :]


class DemandSampler(Protocol):
    """Draws integer demand (same shape as ``mean``) from ``rng``."""

    def __call__(self, rng: np.random.Generator, mean: np.ndarray, cv: float) -> np.ndarray: ...


def _normal(rng: np.random.Generator, mean: np.ndarray, cv: float) -> np.ndarray:
    """Normal with std = cv x mean, rounded to whole units and clipped at 0."""
    draws = rng.normal(mean, cv * mean)
    return np.maximum(np.rint(draws), 0.0).astype(np.int64)


def _poisson(rng: np.random.Generator, mean: np.ndarray, cv: float) -> np.ndarray:
    """Poisson with the given mean (variance = mean; ``cv`` unused)."""
    return rng.poisson(mean).astype(np.int64)


def _negative_binomial(rng: np.random.Generator, mean: np.ndarray, cv: float) -> np.ndarray:
    """Negative binomial with the given mean and variance (cv x mean)**2 (> mean)."""
    var = np.maximum((cv * mean) ** 2, mean + 1e-9)
    p = np.where(mean > 0, mean / var, 1.0)
    n = np.where(mean > 0, mean * p / (1.0 - p + 1e-300), 1.0)
    # a mean so tiny (below ~1e-150) that n underflows to 0 is no demand (numpy needs n > 0)
    active = n > 0
    draws = rng.negative_binomial(np.where(active, n, 1.0), np.where(active, p, 1.0))
    return np.where(active & (mean > 0), draws, 0).astype(np.int64)


#: The distributions a scenario may name, by their name in ``[demand] distribution``.
DEMAND_SAMPLERS: dict[str, DemandSampler] = {
    "normal": _normal,
    "poisson": _poisson,
    "negative_binomial": _negative_binomial,
}


def sample_demand(rng: np.random.Generator, demand: Demand, mean: np.ndarray) -> np.ndarray:
    """One realization of demand (units, int64) with the profile ``mean``."""
    cv = demand.std / demand.base_mean if demand.base_mean > 0 else 0.0
    return DEMAND_SAMPLERS[demand.distribution](rng, mean, cv)
