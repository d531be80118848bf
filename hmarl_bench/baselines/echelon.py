"""Echelon stock at the warehouse, Clark-Scarf style, with fixed levels in units.

The warehouse's *echelon* inventory position of a SKU is its own on hand and pipeline plus
every store's on hand and pipeline of that SKU (:attr:`ChainView.echelon_position`): all
the stock that will serve the chain's customers. Ordering on it, rather than on the
warehouse's own position, lets the warehouse see stock it has already pushed downstream,
so it neither orders for units sitting on shelves nor starves when stores hold little.
Clark and Scarf (1960) showed that with stores on installation base-stock levels, an
echelon base-stock level at the upper stage is optimal for serial chains.

- :class:`EchelonBaseStockFree`: base-stock (order up to S every day) at every slot and
  echelon base-stock at the warehouse;
- :class:`EchelonSSFree`: (s, S) at every slot and echelon (s, S) at the warehouse (fixed
  ordering costs make batching pay).

Levels are units of inventory position, constant over the episode (no forecast); the
untuned levels cover the nominal mean demand of the cover window (stores ``L + 1`` days,
the warehouse ``L_w + L + 1``) plus critical-ratio safety stock, and an EOQ cycle for the
(s, S) gap. Horizon-aware (:class:`~hmarl_bench.baselines.chain_rule.LevelChain`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from hmarl_bench.baselines.chain_rule import LevelChain, Parameter
from hmarl_bench.baselines.levels import critical_ratio_z, eoq_days, nominal_demand, slot_capacity
from hmarl_bench.config import Scenario
from hmarl_bench.twin import ChainView

__all__ = ["EchelonBaseStockFree", "EchelonSSFree", "echelon_defaults"]


def echelon_defaults(scenario: Scenario) -> dict[str, np.ndarray]:
    """Untuned fixed levels (units): base stock of each node's cover window, and EOQ gaps."""
    mu, sigma = nominal_demand(scenario)
    k = scenario.n_skus
    z = critical_ratio_z(scenario)
    wh, sup, costs = scenario.warehouse, scenario.supplier, scenario.costs
    store_cover = wh.lead_time + 1.0
    chain_cover = sup.lead_time + (1 - sup.reliability) * sup.delay_days + store_cover
    chain_mu = mu.reshape(-1, k).sum(axis=0)
    chain_sigma = np.sqrt((sigma**2).reshape(-1, k).sum(axis=0))
    store = mu * store_cover + z * sigma * np.sqrt(store_cover)
    chain = chain_mu * chain_cover + z * chain_sigma * np.sqrt(chain_cover)
    return {
        "store_reorder_point": store,
        "store_order_up_to": store + mu * eoq_days(scenario, mu, costs.holding_cost),
        "warehouse_reorder_point": chain,
        "warehouse_order_up_to": chain
        + chain_mu * eoq_days(scenario, chain_mu, costs.warehouse_holding_cost),
    }


class EchelonSSFree(LevelChain):
    """Fixed (s, S) per slot at the stores and echelon (s, S) per SKU at the warehouse
    (units of position; an order-up-to below its reorder point counts as the reorder
    point)."""

    echelon: ClassVar[bool] = True

    @classmethod
    def parameters(cls, scenario: Scenario) -> list[Parameter]:
        start = echelon_defaults(scenario)
        store_cap = slot_capacity(scenario).astype(float)
        wh_cap = float(scenario.warehouse.capacity)
        return [
            Parameter(
                "store_reorder_point", "slot", 0.0, store_cap, start["store_reorder_point"], "units"
            ),
            Parameter(
                "store_order_up_to", "slot", 0.0, store_cap, start["store_order_up_to"], "units"
            ),
            Parameter(
                "warehouse_reorder_point",
                "sku",
                0.0,
                wh_cap,
                start["warehouse_reorder_point"],
                "units",
            ),
            Parameter(
                "warehouse_order_up_to", "sku", 0.0, wh_cap, start["warehouse_order_up_to"], "units"
            ),
            *super().parameters(scenario),
        ]

    def store_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        reorder = self.p["store_reorder_point"]
        return reorder, np.maximum(self.p["store_order_up_to"], reorder)

    def warehouse_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        reorder = self.p["warehouse_reorder_point"]
        return reorder, np.maximum(self.p["warehouse_order_up_to"], reorder)


class EchelonBaseStockFree(LevelChain):
    """Base-stock at every slot and echelon base-stock per SKU at the warehouse: each node
    orders up to its level every day it is below it (units of position)."""

    echelon: ClassVar[bool] = True

    @classmethod
    def parameters(cls, scenario: Scenario) -> list[Parameter]:
        start = echelon_defaults(scenario)
        store_cap = slot_capacity(scenario).astype(float)
        wh_cap = float(scenario.warehouse.capacity)
        return [
            Parameter(
                "store_order_up_to", "slot", 0.0, store_cap, start["store_reorder_point"], "units"
            ),
            Parameter(
                "warehouse_order_up_to",
                "sku",
                0.0,
                wh_cap,
                start["warehouse_reorder_point"],
                "units",
            ),
            *super().parameters(scenario),
        ]

    def store_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        level = self.p["store_order_up_to"]
        return level - 1.0, level

    def warehouse_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        level = self.p["warehouse_order_up_to"]
        return level - 1.0, level
