"""Forecast-following levels: (s, S) that move with the demand a planner can know in advance.

A node's reorder point covers the demand expected over its *cover window* (from today until
an order placed tomorrow would land) plus ``safety`` standard deviations of that demand;
its order-up-to level adds ``gap_days`` of the demand expected right after the window (the
order cycle). Both are window sums of the scenario's nominal profile
(:class:`~hmarl_bench.baselines.levels.DemandPlan`: seasonality and announced spikes from
the configuration), so levels rise before a peak or a promotion and fall after it, and
they shrink to the demand that is left as the episode ends (the windows are cut at the
horizon). Never realized demand: the only live signal is the stores' own smoothed
forecast, blended in by ``forecast_weight`` as a level correction (the ratio of a slot's
forecast to what it would read if demand ran exactly to plan), which follows demand that
departs from the plan.

Every slot has its own safety factor and order cycle (per-store levels, not one
days-of-cover for all). Cover windows, in days from today:

- a store slot: ``L + 1`` (its order lands after the lead time L; the next order a day
  later);
- the warehouse on its own position (:class:`ForecastSSFree`): ``L_w + 1`` with ``L_w`` the
  supplier's expected lead time (late shipments included), over the chain's demand;
- the warehouse on its echelon position (:mod:`hmarl_bench.baselines.frontier`):
  ``L_w + L + 1``: until its order can be on a store's shelf.
"""

from __future__ import annotations

import numpy as np

from hmarl_bench.baselines.chain_rule import LevelChain, Parameter
from hmarl_bench.baselines.levels import (
    DemandPlan,
    critical_ratio_z,
    eoq_days,
    nominal_demand,
)
from hmarl_bench.config import Scenario
from hmarl_bench.twin import ChainView

__all__ = ["ForecastLevels", "ForecastSSFree", "demand_ratio", "window_levels"]

#: The level correction from forecasts is kept within these factors of the plan.
RATIO_LIMITS = (0.25, 4.0)


def demand_ratio(view: ChainView, plan: DemandPlan, weight: np.ndarray) -> np.ndarray:
    """(B, N) factor on the plan: ``1 + weight x (forecast / planned forecast - 1)``.

    With weight 0 this is 1 (the plan alone); with weight 1 the slot's smoothed forecast
    relative to the forecast a to-plan demand history would give.
    """
    expected = plan.expected_forecast[min(view.day, plan.n_days - 1)]
    relative = view.forecast / np.maximum(expected, 1e-9)
    return np.clip(1.0 + weight * (relative - 1.0), *RATIO_LIMITS)


def window_levels(
    mean,
    var,
    day: int,
    cover: float,
    safety: np.ndarray,
    gap_days: np.ndarray,
    ratio: np.ndarray | float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point and order-up-to level from window sums of a plan (see module).

    ``s = ratio x mean[day, day + cover) + safety x ratio x sd[day, day + cover)``;
    ``S = s + ratio x mean[day + cover, day + cover + gap_days)``.
    """
    covered = mean.window(day, cover)
    spread = np.sqrt(var.window(day, cover))
    reorder = ratio * (covered + safety * spread)
    return reorder, reorder + ratio * mean.window(day + cover, gap_days)


class ForecastLevels(LevelChain):
    """Per-slot forecast-following store levels and their parameters (see module)."""

    @classmethod
    def parameters(cls, scenario: Scenario) -> list[Parameter]:
        mu, _ = nominal_demand(scenario)
        z = critical_ratio_z(scenario)
        return [
            Parameter("store_safety", "slot", -1.5, 4.0, z, "z"),
            Parameter(
                "store_gap_days", "slot", 0.0, 10.0, eoq_days(scenario, mu, _h(scenario)), "days"
            ),
            Parameter("forecast_weight", "one", 0.0, 1.0, 0.0, "fraction"),
            *super().parameters(scenario),
        ]

    def store_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        plan, p = self.plan, self.p
        ratio = demand_ratio(view, plan, p["forecast_weight"])
        return window_levels(
            plan.slot_mean,
            plan.slot_var,
            view.day,
            self.store_lead + 1.0,
            p["store_safety"],
            p["store_gap_days"],
            ratio,
        )

    def chain_ratio(self, view: ChainView) -> np.ndarray:
        """(B, K) the forecast correction of the chain's demand of each SKU."""
        plan = self.plan
        weight = self.p["forecast_weight"]
        if np.ndim(weight) == 0 and weight == 0.0:
            return np.ones((view.batch_size, view.n_skus))
        expected = plan.expected_forecast[min(view.day, plan.n_days - 1)]
        k = view.n_skus
        forecast = np.einsum("bsk->bk", view.forecast.reshape(view.batch_size, -1, k))
        relative = forecast / np.maximum(expected.reshape(-1, k).sum(axis=0), 1e-9)
        return np.clip(1.0 + weight * (relative - 1.0), *RATIO_LIMITS)


def warehouse_parameters(scenario: Scenario) -> list[Parameter]:
    """The warehouse's safety factor, order cycle and extra cover per SKU.

    ``warehouse_extra_days`` lengthens the warehouse's cover window: on the echelon position
    it must also hold the stores' cycle stock (their (s, S) gaps), which the lead times
    alone do not count.
    """
    mu, _ = nominal_demand(scenario)
    chain = mu.reshape(-1, scenario.n_skus).sum(axis=0)
    holding = scenario.costs.warehouse_holding_cost
    return [
        Parameter("warehouse_safety", "sku", -1.5, 4.0, critical_ratio_z(scenario), "z"),
        Parameter(
            "warehouse_gap_days", "sku", 0.0, 10.0, eoq_days(scenario, chain, holding), "days"
        ),
        Parameter("warehouse_extra_days", "sku", -3.0, 20.0, 0.0, "days"),
    ]


class ForecastSSFree(ForecastLevels):
    """Forecast-following (s, S) at every slot and at the warehouse, free quantities.

    The warehouse orders on its own inventory position (installation stock) with the cover
    window ``L_w + 1`` of the chain's demand; horizon-aware (:class:`LevelChain`).
    """

    @classmethod
    def parameters(cls, scenario: Scenario) -> list[Parameter]:
        return [*super().parameters(scenario), *warehouse_parameters(scenario)]

    def warehouse_cover(self) -> float:
        return self.expected_supplier_lead + 1.0

    def warehouse_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        plan, p = self.plan, self.p
        return window_levels(
            plan.chain_mean,
            plan.chain_var,
            view.day,
            self.warehouse_cover() + p["warehouse_extra_days"],
            p["warehouse_safety"],
            p["warehouse_gap_days"],
            self.chain_ratio(view),
        )


def _h(scenario: Scenario) -> float:
    return scenario.costs.holding_cost
