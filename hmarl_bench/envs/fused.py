"""FusedDay: HMARLEnvironment's compiled day, with its constants packed once.

Why: :class:`~hmarl_bench.envs.HMARLEnvironment` with one copy spends most of a step in
numpy call overhead on arrays of a few elements (see :mod:`hmarl_bench.envs.fused_kernel`).
This class packs the scenario's numbers (taken from the same :class:`TwinParams` and role
objects the numpy reference uses, so they cannot drift apart) into a few arrays, keeps
the kernel's output buffers, and hands back fresh observation and mask arrays each day.

It covers every scenario (any stores, SKUs, lead times and demand model: demand is drawn
at reset by the numpy twin either way). The reference path, ``HMARLEnvironment(...,
compiled=False)``, runs :func:`hmarl_bench.twin.step`, :func:`~hmarl_bench.reconciliation.
reconcile` and the roles' ``observe`` / ``action_masks``; ``tests/test_fused.py`` checks
that both return the same values, bit for bit.
"""

from __future__ import annotations

import numpy as np

from hmarl_bench.agents.roles import (
    MAX_COVER_DAYS,
    STORE_ORDER_MULTIPLIERS,
    StoreRole,
    SupplierRole,
    WarehouseRole,
)
from hmarl_bench.config import Scenario
from hmarl_bench.twin import DayOutcome, TwinParams, TwinState

__all__ = ["SYSTEM_KEYS", "FusedDay"]

#: The keys of :func:`hmarl_bench.reconciliation.system_cost`, in its order.
SYSTEM_KEYS = ("holding_cost", "lost_sales_cost", "ordering_cost", "total_cost")
_SLOT_FIELDS = (
    "store_start",
    "store_received",
    "demand",
    "sales",
    "lost_sales",
    "store_requested",
    "store_shipped",
    "store_end",
    "store_pipeline_end",
)
_SKU_FIELDS = (
    "warehouse_start",
    "warehouse_received",
    "warehouse_shipped",
    "warehouse_requested",
    "warehouse_ordered",
    "supplier_shipped",
    "supplier_on_time",
    "warehouse_end",
    "warehouse_pipeline_end",
)


def _weights(scenario: Scenario) -> list[float]:
    """The three roles' reward weights in ``fused_kernel._reward``'s order."""
    names = ("service_level", "holding_cost", "stockout", "excess", "ordering_cost")
    roles = (scenario.store_reward, scenario.warehouse_reward, scenario.supplier_reward)
    return [float(getattr(weights, name)) for weights in roles for name in names]


def _state_arrays(state: TwinState) -> tuple[np.ndarray, ...]:
    """The state's arrays in the kernel's order (TwinState's fields, without ``day`` and
    the hidden ``demand_regime``: the kernel reads realized demand only)."""
    return (
        state.store_on_hand,
        state.store_pipeline,
        state.warehouse_on_hand,
        state.warehouse_pipeline,
        state.forecast,
        state.forecast_var,
        state.recent_service,
        state.stockout_yesterday,
        state.warehouse_last_order,
        state.supplier_last_shipped,
        state.days_to_delivery,
        state.demand,
        state.supplier_late,
        state.supplier_up,
    )


class FusedDay:
    """The day of ``copies`` copies through ``fused_kernel.day``; outputs stay in buffers.

    After :meth:`step`: ``terms`` (B, N + 2, 11) every agent's report in ``ROLE_TERMS``
    order (stores, warehouse, supplier), ``rewards`` (B, N + 2), ``system`` (B, 4) in
    :data:`SYSTEM_KEYS` order, and :meth:`outcome` the day's :class:`DayOutcome`. The env
    runs one copy; the kernel is the same for any B (``tests/test_fused.py`` runs 3).
    """

    def __init__(
        self,
        scenario: Scenario,
        params: TwinParams,
        stores: StoreRole,
        warehouse: WarehouseRole,
        supplier: SupplierRole,
        copies: int = 1,
    ) -> None:
        # numba is imported (~0.15 s) by the first compiled env, not by ``import hmarl_bench``
        from hmarl_bench.envs import fused_kernel

        self._observe, self._day_kernel = fused_kernel.observe, fused_kernel.day  # picklable
        n, k = scenario.n_slots, scenario.n_skus
        costs = scenario.costs
        ip = [
            params.store_lead_time,
            params.store_pipeline_len,
            params.warehouse_capacity,
            params.supplier_lead_time,
            params.supplier_capacity,
            params.delay_days,
            params.warehouse_pipeline_len,
            *params.supplier_extra_delay.tolist(),
        ]
        # Python scalars as the reference combines them (an int sum stays an int, then one
        # conversion to float64, as numpy converts it when it multiplies an array).
        fp = [
            params.smoothing,
            1.0 - params.smoothing,
            costs.holding_cost,
            costs.ordering_cost,
            costs.excess_cover_days,
            scenario.supplier.lead_time + costs.excess_cover_days,
            costs.warehouse_holding_cost,
            costs.stockout_penalty,
            warehouse.capacity,
            supplier.capacity,
            supplier.max_lead,
            MAX_COVER_DAYS,
            *STORE_ORDER_MULTIPLIERS.tolist(),
            *params.supplier_fraction.tolist(),
            *_weights(scenario),
        ]
        if stores.warehouse_capacity != warehouse.capacity:  # pragma: no cover - invariant
            raise AssertionError("the store and warehouse roles scale the warehouse alike")
        slot_consts = np.stack(
            [
                stores.on_hand_scale,
                stores.demand_scale,
                warehouse.store_capacity,
                stores.capacity,
            ]
        ).astype(np.float64)
        self.params = (
            np.array(ip, dtype=np.int64),
            np.array(fp, dtype=np.float64),
            params.store_capacity.astype(np.int64),
            np.ascontiguousarray(slot_consts),
            np.atleast_1d(np.asarray(warehouse.demand_scale, dtype=np.float64)),
            np.ascontiguousarray(warehouse.sku_quantities, dtype=np.int64),
        )
        self.n_slots, self.n_skus = n, k
        self.obs_size = 7 * n + 6 * k + 3
        self.mask_size = 4 * n + 4 * k + supplier.n_actions
        self.copies = copies
        self._slot_out = np.zeros((len(_SLOT_FIELDS), copies, n), dtype=np.int64)
        self._forecast_out = np.zeros((copies, n))
        self._sku_out = np.zeros((len(_SKU_FIELDS), copies, k), dtype=np.int64)
        self.terms = np.zeros((copies, n + 2, 11))
        self.rewards = np.zeros((copies, n + 2))
        self.system = np.zeros((copies, 4))
        self._day = -1

    def observe(self, state: TwinState) -> tuple[np.ndarray, np.ndarray]:
        """Fresh (obs, masks) of the current day: per copy, flat float32 (7 N + 6 K + 3)
        and bool (4 N + 4 K + 3), agents in ``possible_agents`` order."""
        obs = np.empty((self.copies, self.obs_size), dtype=np.float32)
        masks = np.empty((self.copies, self.mask_size), dtype=bool)
        self._observe(_state_arrays(state), self.params, obs, masks)
        return obs, masks

    def step(self, state: TwinState, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Simulate ``state.day`` for ``actions`` (B, N + K + 1) int64 (each slot's, the
        warehouse's per SKU, the supplier's); mutate ``state``; return the next day's fresh
        (obs, masks) as :meth:`observe` does."""
        obs = np.empty((self.copies, self.obs_size), dtype=np.float32)
        masks = np.empty((self.copies, self.mask_size), dtype=bool)
        out = (self._slot_out, self._forecast_out, self._sku_out, self.terms, self.rewards)
        out += (self.system, obs, masks)
        self._day_kernel(state.day, actions, _state_arrays(state), self.params, out)
        self._day = state.day
        state.day += 1
        return obs, masks

    def outcome(self) -> DayOutcome:
        """The last day's outcome, as :func:`hmarl_bench.twin.step` returns it (copies)."""
        fields = {name: self._slot_out[i].copy() for i, name in enumerate(_SLOT_FIELDS)}
        fields.update({name: self._sku_out[i].copy() for i, name in enumerate(_SKU_FIELDS)})
        return DayOutcome(day=self._day, forecast=self._forecast_out.copy(), **fields)
