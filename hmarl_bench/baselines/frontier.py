"""The combined rule: forecast-following per-store levels, an echelon warehouse, cut-offs.

:class:`EchelonFree` is what an operations team with this chain's information would run:
every store-SKU slot keeps its own forecast-following (s, S)
(:mod:`~hmarl_bench.baselines.forecast`), the warehouse orders on its *echelon* position
(its own stock and pipeline plus every store's, per SKU: Clark-Scarf) up to the chain's
expected demand until its order can be on a shelf (cover window ``L_w + L + 1``) plus
safety stock, and nothing is ordered that could only land after the season (plus tuned
cut-off days). :class:`EchelonActions` is the same chain with the stores acting through
their four actions (0, 0.5, 1.0 or 1.5 x forecast, masked), the like-for-like comparison
for a learning store policy.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from hmarl_bench.baselines.chain_rule import Parameter
from hmarl_bench.baselines.forecast import ForecastSSFree
from hmarl_bench.config import Scenario
from hmarl_bench.twin import ChainView

__all__ = ["EchelonActions", "EchelonFree"]


class EchelonFree(ForecastSSFree):
    """Forecast-following per-slot (s, S) stores and an echelon (s, S) warehouse, free
    quantities, horizon-aware, pushing excess stock down. Parameters: :meth:`parameters`.

    Push: holding costs the same on a shelf as in the warehouse, so while the chain holds
    more than the warehouse's order-up-to level (stock it will not replace soon, like the
    initial excess), moving it to the stores in big batches saves store orders at no extra
    holding. A slot that reorders then orders up to ``S`` plus up to ``store_push_days`` of
    its expected demand, within its share (by expected demand) of that excess and of the
    warehouse's own stock.
    """

    echelon: ClassVar[bool] = True

    @classmethod
    def parameters(cls, scenario: Scenario) -> list[Parameter]:
        return [
            *super().parameters(scenario),
            Parameter("store_push_days", "slot", 0.0, 40.0, 0.0, "days"),
        ]

    def warehouse_cover(self) -> float:
        return self.expected_supplier_lead + self.store_lead + 1.0

    def store_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        reorder, order_up_to = super().store_levels(view)
        push = self.p["store_push_days"]
        if np.ndim(push) == 1 and not push.any():
            return reorder, order_up_to
        k = view.n_skus
        _, warehouse_up_to = self.today["warehouse_levels"]
        excess = np.minimum(
            self.warehouse_position(view) - warehouse_up_to, view.warehouse_on_hand
        )  # (B, K)
        excess = np.maximum(excess, 0.0)
        batch = view.batch_size  # slot s * K + k: SKU k of store s; (B, S, K) views below
        cover = self.store_lead + 1.0
        daily = self.plan.slot_mean.window(view.day + cover, 1.0).reshape(-1, k)  # (S, K)
        share = daily / np.maximum(daily.sum(axis=0), 1e-9)  # each store's share of a SKU
        wanted = self.plan.slot_mean.window(view.day + cover, push)
        wanted = np.broadcast_to(wanted, (batch, view.n_slots)).reshape(batch, -1, k)
        extra = np.minimum(wanted, excess[:, None, :] * share).reshape(batch, -1)
        return reorder, order_up_to + extra


class EchelonActions(EchelonFree):
    """:class:`EchelonFree` with each store taking the feasible action of its four closest
    to ``S - position`` (when at or below ``s``)."""

    through_actions: ClassVar[bool] = True
