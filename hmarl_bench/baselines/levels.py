"""Levels the rules order up to: nominal demand, its cover windows, per-copy parameters.

Everything here is computed from the scenario's configuration (the nominal demand profile,
lead times, capacities, costs), never from realized demand: it is what a planner knows
before the season starts.

:class:`DemandPlan` answers "how much demand, and how uncertain, do I expect over the
window ``[start, start + length)``?" for every slot and for every SKU of the chain, with
fractional lengths (a window of 2.5 days counts half of its third day) and windows cut at
the episode's end (the demand of days that will never come is 0): that cut is what makes
levels built on it horizon-aware.

Per-copy parameters: a rule's parameter has an unbatched shape (``(N,)`` per slot, ``(K,)``
per SKU, ``()`` one number); tuning passes one value per copy with a leading batch axis
``(B, ...)`` so that many candidates run in one batched pass (:func:`per_copy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import norm

from hmarl_bench.config import Scenario
from hmarl_bench.twin.demand import slot_multipliers
from hmarl_bench.twin.params import chain_params

__all__ = [
    "DemandPlan",
    "base_stock_levels",
    "critical_ratio_z",
    "days_of_demand",
    "eoq_days",
    "nominal_demand",
    "per_copy",
    "slot_capacity",
    "warehouse_levels",
]


def nominal_demand(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Each slot's nominal daily demand mean and std (N,), in units/day (per store, (S,),
    with one SKU).

    ``base_mean x demand_multiplier x demand_scale`` (no seasonality or spikes); the std is
    the scenario's coefficient of variation times that mean (the square root of the mean
    for Poisson).
    """
    mu = scenario.demand.base_mean * slot_multipliers(scenario)
    if scenario.demand.distribution == "poisson":
        return mu, np.sqrt(mu)
    cv = scenario.demand.std / scenario.demand.base_mean if scenario.demand.base_mean > 0 else 0
    return mu, cv * mu


def base_stock_levels(scenario: Scenario, z: float) -> tuple[int, ...]:
    """Forecast-free order-up-to levels per store (per slot), in units of inventory position.

    ``S_s = round(mu_s (L + 1) + z sigma_s sqrt(L + 1))`` with ``mu_s``, ``sigma_s`` the
    store's (slot's) nominal daily mean and std and ``L`` the warehouse-to-store lead time:
    the demand over the lead time plus the one-day review period, with ``z`` safety stocks.
    Clipped to ``[0, capacity]`` (the store's capacity, which its SKUs share).
    """
    mu, sigma = nominal_demand(scenario)
    cover = scenario.warehouse.lead_time + 1
    levels = np.rint(mu * cover + z * sigma * np.sqrt(cover))
    return tuple(int(v) for v in np.clip(levels, 0, slot_capacity(scenario)))


def slot_capacity(scenario: Scenario) -> np.ndarray:
    """(N,) the capacity of each slot's store."""
    return np.repeat(np.array([s.capacity for s in scenario.stores]), scenario.n_skus)


def days_of_demand(scenario: Scenario, days: float) -> tuple[int, ...]:
    """``days`` of each slot's nominal demand (units), clipped to its store's capacity."""
    mu, _ = nominal_demand(scenario)
    return tuple(int(v) for v in np.clip(np.rint(days * mu), 0, slot_capacity(scenario)))


def warehouse_levels(scenario: Scenario, days: float) -> dict[str, Any]:
    """Warehouse (s, S) keyword arguments: S = ``days`` of chain demand, s = S - one day.

    Per SKU with several SKUs (tuples of K levels, each at most the shared capacity).
    """
    mu, _ = nominal_demand(scenario)
    if scenario.n_skus == 1:
        chains = [float(mu.sum())]
    else:
        chains = [float(v) for v in mu.reshape(-1, scenario.n_skus).sum(axis=0)]
    order_up_to = [int(min(round(days * c), scenario.warehouse.capacity)) for c in chains]
    reorder = [max(level - int(round(c)), 0) for level, c in zip(order_up_to, chains, strict=True)]
    if scenario.n_skus == 1:
        return {"warehouse_reorder_point": reorder[0], "warehouse_order_up_to": order_up_to[0]}
    return {"warehouse_reorder_point": tuple(reorder), "warehouse_order_up_to": tuple(order_up_to)}


def critical_ratio_z(scenario: Scenario) -> float:
    """The newsvendor safety factor of one day: ``Phi^-1(p / (p + h))`` for the lost-sales
    penalty p and the store holding cost h (a unit short costs p, a unit left over h)."""
    costs = scenario.costs
    ratio = costs.stockout_penalty / max(costs.stockout_penalty + costs.holding_cost, 1e-12)
    return float(norm.ppf(np.clip(ratio, 0.5, 0.999)))


def eoq_days(scenario: Scenario, daily_demand: np.ndarray, holding_cost: float) -> np.ndarray:
    """The economic order quantity in days of demand, ``sqrt(2 K / (h mu))``: the order
    cycle that balances the fixed ordering cost K against holding (0 when ordering is free)."""
    ordering = scenario.costs.ordering_cost
    rate = np.maximum(np.asarray(daily_demand, dtype=float) * holding_cost, 1e-9)
    return np.sqrt(2.0 * ordering / rate)


def per_copy(value: Any, shape: Sequence[int], batch_size: int, name: str) -> np.ndarray:
    """A rule parameter as an array that broadcasts against (B, ...) arrays.

    ``value`` has the parameter's own ``shape`` (one value for every copy) or a leading
    batch axis ``(B, *shape)`` (one value per copy, as tuning passes candidates). A per-copy
    scalar comes back as (B, 1), so it broadcasts against (B, N) and (B, K) arrays alike.
    """
    array = np.asarray(value, dtype=np.float64)
    shape = tuple(shape)
    if array.shape == shape or (shape == () and array.shape == (1,)):
        return array.reshape(shape)
    if array.shape == (batch_size, *shape):
        return array.reshape(batch_size, 1) if shape == () else array
    raise ValueError(
        f"{name}: expected shape {shape} (all copies) or {(batch_size, *shape)} (per copy), "
        f"got {array.shape}"
    )


class DemandPlan:
    """Expected demand and its variance over windows of days, per slot and per SKU.

    Built once per scenario from the nominal profile (T, N) (seasonality and announced
    spikes included) and the scenario's demand distribution: a day's variance is
    ``(cv x mean)^2`` (normal), ``mean`` (Poisson) or ``max((cv x mean)^2, mean)`` (negative
    binomial), days independent. ``expected_forecast`` (T, N) is what the stores' smoothed
    forecast would read on each day if demand were always its mean: a store's forecast
    over it says how far demand runs above or below plan.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.n_days = scenario.episode_days
        self.n_skus = scenario.n_skus
        mean = chain_params(scenario).profile  # (T, N)
        demand = scenario.demand
        cv = demand.std / demand.base_mean if demand.base_mean > 0 else 0.0
        if demand.distribution == "poisson":
            var = mean.copy()
        elif demand.distribution == "negative_binomial":
            var = np.maximum((cv * mean) ** 2, mean)
        else:
            var = (cv * mean) ** 2
        self.slot_mean = _Cumulative(mean)
        self.slot_var = _Cumulative(var)
        by_sku = mean.reshape(self.n_days, -1, self.n_skus).sum(axis=1)  # (T, K)
        self.chain_mean = _Cumulative(by_sku)
        self.chain_var = _Cumulative(var.reshape(self.n_days, -1, self.n_skus).sum(axis=1))
        self.expected_forecast = _smoothed(mean, scenario.forecast_smoothing)


class _Cumulative:
    """Window sums of a (T, M) daily profile, with fractional, horizon-cut windows."""

    def __init__(self, daily: np.ndarray) -> None:
        n_days, width = daily.shape
        self.n_days = n_days
        # two rows past the end: the sum stays flat after day T - 1 (no demand after the end)
        self.daily = np.vstack([daily, np.zeros((2, width))])
        self.cumulative = np.vstack([np.zeros((1, width)), np.cumsum(self.daily, axis=0)])
        self.columns = np.arange(width)
        # flat copies: one take() on a raveled index is the cheapest gather per copy and column
        self._flat_cumulative = self.cumulative[: n_days + 1].ravel()
        self._flat_daily = self.daily[: n_days + 1].ravel()

    def at(self, time: np.ndarray | float) -> np.ndarray:
        """The sum of the days before ``time`` (fractional: part of the last day counts)."""
        time = np.minimum(np.maximum(time, 0.0), float(self.n_days))
        if np.ndim(time) == 0:  # one time for every copy: a row
            whole = int(time)
            return self.cumulative[whole] + (time - whole) * self.daily[whole]
        whole = time.astype(np.int64)  # time >= 0: truncation is the floor
        index = whole * self.columns.size + self.columns
        part = time - whole
        return self._flat_cumulative.take(index) + part * self._flat_daily.take(index)

    def window(self, start: np.ndarray | float, length: np.ndarray | float) -> np.ndarray:
        """The sum over ``[start, start + length)``, cut at the episode's end (>= 0)."""
        return np.maximum(self.at(start + np.maximum(length, 0.0)) - self.at(start), 0.0)


def _smoothed(mean: np.ndarray, alpha: float) -> np.ndarray:
    """The stores' exponential smoothing run on the mean profile (the forecast's day-0
    prior is the day-0 mean, as at the twin's reset): day t holds the forecast used on t."""
    out = np.empty_like(mean)
    forecast = mean[0].copy()
    for day in range(mean.shape[0]):
        out[day] = forecast
        forecast = forecast + alpha * (mean[day] - forecast)
    return out
