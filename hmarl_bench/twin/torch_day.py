"""The twin's day in torch: the same phases as :mod:`hmarl_bench.twin.dynamics`, differentiable.

Hindsight differentiable policy optimization (HDPO) needs the episode's cost as a
differentiable function of the orders along each sampled path. This module runs the
numpy twin's day with torch operations, batched over B copies:

1. receive (pipelines by arrival day: entry ``j`` lands on the morning of ``day + j``);
2. sell, ``sales = min(on_hand, demand)``, the rest lost (the twin has no backorders);
3. store orders cut to each store's shared capacity room, the warehouse rationing pro
   rata when short, shipments entering the store pipeline (or the shelf, lead time 0);
4. the warehouse order cut to its room, the supplier's fraction, daily capacity, outage
   days and late shipments (an exogenous flag that picks the pipeline entry);
5. the forecast, its variance and the recent fill rate, as the numpy twin learns them.

The exogenous paths (demand, late flags, hidden regimes, outage days) are the numpy twin's
own for the same seeds (:meth:`TorchTwin.reset`), so both twins face identical episodes.

Two modes. ``integer=True`` rounds where the numpy twin rounds (capacity and rationing
floors, the supplier's fraction) and then, fed integer orders, reproduces the numpy twin's
units and costs (``tests/test_torch_day.py``); floors pass their gradient straight through
(forward: the floor, backward: identity). ``integer=False`` is the continuous relaxation
used for training. The fixed ordering cost is an on/off indicator with zero gradient:
with ``surrogate_scale`` set, its forward value stays exact and its gradient is that of
``ordering_cost x tanh(q / surrogate_scale)`` (straight-through). Policies read
:class:`TorchView`, the start-of-day fields a :class:`~hmarl_bench.twin.view.ChainView`
offers, never the demand, lateness, regime or outage arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.twin import DigitalTwin, Exogenous, TwinParams
from hmarl_bench.twin.view import ChainView

__all__ = ["DayCost", "TorchTwin", "TorchView", "episode_kpis", "straight_through_floor"]


def straight_through_floor(x: torch.Tensor) -> torch.Tensor:
    """``floor(x)`` forward, identity backward."""
    return x + (torch.floor(x) - x).detach()


def _floor_div(num: torch.Tensor, den: torch.Tensor, integer: bool) -> torch.Tensor:
    """``num / den``, floored exactly (as numpy's integer ``//``) when ``integer``."""
    ratio = num / den
    if not integer:
        return ratio
    return ratio + (torch.div(num.detach(), den.detach(), rounding_mode="floor") - ratio).detach()


def _indicator(quantity: torch.Tensor, scale: float | None) -> torch.Tensor:
    """``quantity > 0`` as 0/1; with ``scale`` its gradient is ``tanh(q / scale)``'s."""
    exact = (quantity > 0).to(quantity.dtype)
    if scale is None:
        return exact
    smooth = torch.tanh(quantity / scale)
    return smooth + (exact - smooth).detach()


@dataclass
class TorchView:
    """Start of ``day`` as a controller sees it (names and shapes as :class:`ChainView`,
    pipelines already by arrival day). Built from a :class:`TorchTwin` or a ChainView."""

    day: int
    store_on_hand: torch.Tensor  # (B, N)
    store_pipeline_by_arrival: torch.Tensor  # (B, N, Ps)
    warehouse_on_hand: torch.Tensor  # (B, K)
    warehouse_pipeline_by_arrival: torch.Tensor  # (B, K, Pw)
    forecast: torch.Tensor  # (B, N)
    forecast_var: torch.Tensor  # (B, N)
    recent_service: torch.Tensor  # (B, N)
    stockout_yesterday: torch.Tensor  # (B, N) 0/1
    warehouse_last_order: torch.Tensor  # (B, K)
    supplier_last_shipped: torch.Tensor  # (B, K)
    days_to_delivery: torch.Tensor  # (B,)

    @property
    def store_position(self) -> torch.Tensor:
        return self.store_on_hand + self.store_pipeline_by_arrival.sum(dim=2)

    @property
    def warehouse_position(self) -> torch.Tensor:
        return self.warehouse_on_hand + self.warehouse_pipeline_by_arrival.sum(dim=2)

    @classmethod
    def of_chain_view(cls, view: ChainView, dtype: torch.dtype = torch.float64) -> TorchView:
        """The same fields read from a numpy :class:`ChainView` (copies, as ``dtype``)."""

        def t(array: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.array(array, dtype=np.float64), dtype=dtype)

        return cls(
            day=view.day,
            store_on_hand=t(view.store_on_hand),
            store_pipeline_by_arrival=t(view.store_pipeline_by_arrival),
            warehouse_on_hand=t(view.warehouse_on_hand),
            warehouse_pipeline_by_arrival=t(view.warehouse_pipeline_by_arrival),
            forecast=t(view.forecast),
            forecast_var=t(view.forecast_var),
            recent_service=t(view.recent_service),
            stockout_yesterday=t(view.stockout_yesterday),
            warehouse_last_order=t(view.warehouse_last_order),
            supplier_last_shipped=t(view.supplier_last_shipped),
            days_to_delivery=t(view.days_to_delivery),
        )


@dataclass
class DayCost:
    """One day's cost per copy (B,) and the units behind it (as the KPIs count them)."""

    day: int
    holding_cost: torch.Tensor
    lost_sales_cost: torch.Tensor
    ordering_cost: torch.Tensor  # exact forward value (surrogate gradient if set)
    lost_sales: torch.Tensor  # units over all slots
    sales: torch.Tensor
    demand: torch.Tensor

    @property
    def total_cost(self) -> torch.Tensor:
        return self.holding_cost + self.lost_sales_cost + self.ordering_cost


class TorchTwin:
    """B copies of a scenario's chain in torch (see the module docstring)."""

    def __init__(
        self,
        scenario: Scenario | str = "default",
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float64,
        integer: bool = True,
        surrogate_scale: float | None = None,
    ) -> None:
        if surrogate_scale is not None and not surrogate_scale > 0:
            raise ValueError(f"surrogate_scale must be > 0 or None, got {surrogate_scale}")
        self.scenario = load_scenario(scenario)
        self.params = TwinParams.from_scenario(self.scenario)
        self.device, self.dtype = torch.device(device), dtype
        self.integer, self.surrogate_scale = integer, surrogate_scale
        sc, p = self.scenario, self.params
        self.n_skus = sc.n_skus
        self.nominal_demand = DigitalTwin(sc, 1).mean_demand  # (T, N) numpy
        self._store_capacity = self._t(p.store_capacity)
        self._fraction = self._t(p.supplier_fraction)
        self._extra_delay = torch.as_tensor(p.supplier_extra_delay, device=self.device)
        self.day = 0

    def _t(self, array) -> torch.Tensor:
        return torch.as_tensor(np.asarray(array, dtype=np.float64), dtype=self.dtype).to(
            self.device
        )

    @property
    def horizon(self) -> int:
        return self.scenario.episode_days

    @property
    def done(self) -> bool:
        return self.day >= self.horizon

    # ------------------------------------------------------------------ reset
    def reset(self, seeds: Sequence[int]) -> TorchView:
        """Day 0 of the episodes of ``seeds`` (one copy per seed), as the numpy twin's."""
        seeds = [int(s) for s in seeds]
        twin = DigitalTwin(self.scenario, batch_size=len(seeds))
        return self.reset_exogenous(twin.draw_exogenous(seeds))

    def reset_exogenous(self, exogenous: Exogenous) -> TorchView:
        """Day 0 facing the given exogenous arrays (from :meth:`DigitalTwin.draw_exogenous`)."""
        batch = exogenous.demand.shape[0]
        start = DigitalTwin(self.scenario, batch_size=1).reset(0)  # initial stock and prior
        p = self.params

        def tile(array: np.ndarray) -> torch.Tensor:
            return self._t(np.repeat(array, batch, axis=0))

        self.demand = self._t(exogenous.demand)  # (B, T, N)
        self.supplier_late = torch.as_tensor(exogenous.supplier_late, device=self.device)
        self.supplier_up = self._t(exogenous.supplier_up)
        self.demand_regime = torch.as_tensor(exogenous.demand_regime, device=self.device)
        self.day = 0
        self.store_on_hand = tile(start.store_on_hand)
        self.store_pipeline = tile(np.zeros((1, start.n_slots, p.store_pipeline_len)))
        self.warehouse_on_hand = tile(start.warehouse_on_hand)
        self.warehouse_pipeline = tile(np.zeros((1, self.n_skus, p.warehouse_pipeline_len)))
        self.forecast = tile(start.forecast)
        self.forecast_var = tile(start.forecast_var)
        self.recent_service = tile(start.recent_service)
        self.stockout_yesterday = tile(start.stockout_yesterday)
        self.warehouse_last_order = tile(start.warehouse_last_order)
        self.supplier_last_shipped = tile(start.supplier_last_shipped)
        self.days_to_delivery = self._t(np.zeros(batch))
        return self.view()

    def view(self) -> TorchView:
        """What a controller may read at the start of today (no exogenous arrays)."""
        return TorchView(
            day=self.day,
            store_on_hand=self.store_on_hand,
            store_pipeline_by_arrival=self.store_pipeline,
            warehouse_on_hand=self.warehouse_on_hand,
            warehouse_pipeline_by_arrival=self.warehouse_pipeline,
            forecast=self.forecast,
            forecast_var=self.forecast_var,
            recent_service=self.recent_service,
            stockout_yesterday=self.stockout_yesterday,
            warehouse_last_order=self.warehouse_last_order,
            supplier_last_shipped=self.supplier_last_shipped,
            days_to_delivery=self.days_to_delivery,
        )

    # ------------------------------------------------------------------ the day
    def _cut_to_room(self, order: torch.Tensor, room: torch.Tensor) -> torch.Tensor:
        """:func:`hmarl_bench.twin.dynamics.cut_to_room` in torch: orders (B, G x K)
        within each group's shared room (B, G), pro rata when over."""
        room = torch.relu(room)
        order = torch.relu(order)
        if self.n_skus == 1:
            return torch.minimum(order, room)
        batch = order.shape[0]
        grouped = order.reshape(batch, -1, self.n_skus)
        if self.integer:
            grouped = straight_through_floor(grouped)
        total = grouped.sum(dim=2)
        allowed = torch.minimum(total, room)
        denominator = torch.clamp(total, min=1.0)
        cut = _floor_div(grouped * allowed[..., None], denominator[..., None], self.integer)
        return cut.reshape(order.shape)

    def step(
        self,
        store_orders: torch.Tensor,
        warehouse_order: torch.Tensor,
        supplier_action: torch.Tensor | np.ndarray | None = None,
    ) -> DayCost:
        """Simulate today for every copy: orders (B, N), (B, K) or (B,), supplier (B,)."""
        if self.done:
            raise RuntimeError(f"the episode ended after day {self.horizon - 1}; call reset()")
        p, k, day = self.params, self.n_skus, self.day
        costs = self.scenario.costs
        batch = self.store_on_hand.shape[0]
        if supplier_action is None:
            action = torch.zeros(batch, dtype=torch.long, device=self.device)
        else:
            action = torch.as_tensor(np.asarray(supplier_action), device=self.device).long()
        store_position = self.store_on_hand + self.store_pipeline.sum(dim=2)
        if k > 1:
            store_position = store_position.reshape(batch, -1, k).sum(dim=2)
        store_room = self._store_capacity - store_position
        warehouse_position = self.warehouse_on_hand + self.warehouse_pipeline.sum(dim=2)
        warehouse_room = p.warehouse_capacity - warehouse_position.sum(dim=1)

        # 1. receive
        store_on_hand = self.store_on_hand + self.store_pipeline[..., 0]
        self.store_pipeline = torch.nn.functional.pad(self.store_pipeline[..., 1:], (0, 1))
        warehouse_on_hand = self.warehouse_on_hand + self.warehouse_pipeline[..., 0]
        self.warehouse_pipeline = torch.nn.functional.pad(self.warehouse_pipeline[..., 1:], (0, 1))
        # 2. sell
        demand = self.demand[:, day, :]
        sales = torch.minimum(store_on_hand, demand)
        lost = demand - sales
        store_on_hand = store_on_hand - sales
        # 3. stores order; the warehouse rations when short
        requested = self._cut_to_room(store_orders, store_room)
        total = requested.reshape(batch, -1, k).sum(dim=1)  # (B, K)
        share = torch.minimum(warehouse_on_hand, total)
        per_store = requested.reshape(batch, -1, k)
        shipped = _floor_div(
            per_store * share[:, None, :], torch.clamp(total, min=1.0)[:, None, :], self.integer
        )
        warehouse_on_hand = warehouse_on_hand - shipped.sum(dim=1)
        shipped = shipped.reshape(requested.shape)
        if p.store_lead_time == 0:
            store_on_hand = store_on_hand + shipped
        else:
            arrival = torch.zeros(p.store_pipeline_len, dtype=self.dtype, device=self.device)
            arrival[p.store_lead_time - 1] = 1.0
            self.store_pipeline = self.store_pipeline + shipped[..., None] * arrival
        # 4. the warehouse orders; the supplier ships
        warehouse_order = warehouse_order.reshape(batch, k)
        ordered = self._cut_to_room(warehouse_order, warehouse_room[:, None])
        fraction = self._fraction[action][:, None]
        supplied = ordered * fraction + 1e-9
        supplied = straight_through_floor(supplied) if self.integer else supplied - 1e-9
        if k == 1:
            supplied = torch.clamp(supplied, max=float(p.supplier_capacity))
        else:
            capacity = torch.full((batch, 1), float(p.supplier_capacity), dtype=self.dtype)
            supplied = self._cut_to_room(supplied, capacity.to(self.device))
        if p.disruptions:
            supplied = supplied * self.supplier_up[:, day, None]
        lead = self._extra_delay[action] + p.supplier_lead_time
        lead = lead + self.supplier_late[:, day].long() * p.delay_days  # (B,)
        if p.supplier_lead_time == 0:
            today = (lead == 0).to(self.dtype)[:, None]
            warehouse_on_hand = warehouse_on_hand + supplied * today
        slot = (
            torch.nn.functional.one_hot(torch.clamp(lead - 1, min=0), p.warehouse_pipeline_len).to(
                self.dtype
            )
            * (lead > 0).to(self.dtype)[:, None]
        )
        self.warehouse_pipeline = self.warehouse_pipeline + supplied[:, :, None] * slot[:, None, :]
        self.warehouse_last_order = ordered
        self.supplier_last_shipped = supplied
        any_shipped = supplied.sum(dim=1) > 0
        self.days_to_delivery = torch.where(
            any_shipped, lead.to(self.dtype), torch.clamp(self.days_to_delivery - 1, min=0)
        )
        # 5. learn (the forecast is exogenous: it depends on demand alone)
        alpha = p.smoothing
        error = demand - self.forecast
        change = alpha * error
        self.forecast = self.forecast + change
        self.forecast_var = (change * error + self.forecast_var) * (1.0 - alpha)
        fill = torch.where(demand > 0, sales / torch.clamp(demand, min=1e-300), 1.0)
        self.recent_service = self.recent_service + alpha * (fill - self.recent_service)
        self.stockout_yesterday = (lost > 0).to(self.dtype)
        self.store_on_hand, self.warehouse_on_hand = store_on_hand, warehouse_on_hand
        self.day = day + 1

        scale = self.surrogate_scale
        ordering = costs.ordering_cost * _indicator(requested, scale).sum(dim=1)
        ordering = ordering + costs.ordering_cost * _indicator(ordered, scale).sum(dim=1)
        return DayCost(
            day=day,
            holding_cost=costs.holding_cost * store_on_hand.sum(dim=1)
            + costs.warehouse_holding_cost * warehouse_on_hand.sum(dim=1),
            lost_sales_cost=costs.stockout_penalty * lost.sum(dim=1),
            ordering_cost=ordering,
            lost_sales=lost.sum(dim=1),
            sales=sales.sum(dim=1),
            demand=demand.sum(dim=1),
        )


def episode_kpis(days: Sequence[DayCost], warmup_days: int) -> dict[str, torch.Tensor]:
    """Episode totals per copy (B,) over days ``warmup_days ..``, as :func:`evaluate` counts:
    ``total_cost``, ``holding_cost``, ``lost_sales_cost``, ``ordering_cost``, ``lost_sales``
    and ``fill_rate``."""
    used = [d for d in days if d.day >= warmup_days]
    out = {
        name: torch.stack([getattr(d, name) for d in used]).sum(dim=0)
        for name in ("holding_cost", "lost_sales_cost", "ordering_cost", "lost_sales")
    }
    out["total_cost"] = out["holding_cost"] + out["lost_sales_cost"] + out["ordering_cost"]
    sales = torch.stack([d.sales for d in used]).sum(dim=0)
    demand = torch.stack([d.demand for d in used]).sum(dim=0)
    out["fill_rate"] = torch.where(demand > 0, sales / torch.clamp(demand, min=1.0), 1.0)
    return out
