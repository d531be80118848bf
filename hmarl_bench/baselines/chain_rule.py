"""The frame every new rule family shares: (s, S) levels at each node, horizon cut-offs.

A :class:`LevelChain` orders, every day and for every copy,

- at each store-SKU slot: ``S - position`` units when the slot's inventory position is at
  or below ``s`` (free quantities), or the feasible store action closest to that
  (:attr:`LevelChain.through_actions`: the store's four actions, for the like-for-like
  comparison with a learning store policy);
- at the warehouse, per SKU: ``S_w - position`` when its position is at or below ``s_w``,
  the position being the warehouse's own (installation stock) or its *echelon* position
  (warehouse plus every store downstream, Clark-Scarf) as the family says;
- no store order the warehouse cannot fill today (it would pay the fixed ordering cost
  for nothing), nor one it could fill to less than ``store_min_fill`` of it;
- nothing that can only land after the episode ends (a store order placed on day t reaches
  the shelf on ``t + L``; a warehouse order on ``t + L_w``, and a store's shelf on
  ``t + L_w + L`` at the earliest), and nothing in the last ``store_cutoff_days`` /
  ``warehouse_cutoff_days`` before that (tunable: a finite season's run-down).

Families say where the levels come from (:meth:`LevelChain.store_levels`,
:meth:`LevelChain.warehouse_levels`: fixed units, or windows of the nominal demand
profile) and declare their tunable parameters (:meth:`LevelChain.parameters`): name,
shape (per slot, per SKU, or one number), bounds and the untuned value, which the
search (:mod:`hmarl_bench.baselines.search`) starts from. Every parameter may be given per
copy (a leading batch axis), so many candidates run in one batched pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from hmarl_bench.agents.roles import STORE_ORDER_MULTIPLIERS, StoreRole, _closest_option
from hmarl_bench.baselines.levels import DemandPlan, per_copy
from hmarl_bench.config import Scenario
from hmarl_bench.twin import ChainView

__all__ = ["LevelChain", "Parameter"]


@dataclass(frozen=True)
class Parameter:
    """One tunable parameter of a rule family.

    ``per``: ``"slot"`` (one value per store-SKU slot, (N,)), ``"sku"`` ((K,)) or ``"one"``
    (a number). ``low`` / ``high`` bound the search (numbers, or arrays of the shape);
    ``default`` is the untuned value. ``unit`` documents it (``"units"``, ``"days"``,
    ``"z"`` for a safety factor in standard deviations).
    """

    name: str
    per: str
    low: Any
    high: Any
    default: Any
    unit: str = ""

    def shape(self, scenario: Scenario) -> tuple[int, ...]:
        return {"slot": (scenario.n_slots,), "sku": (scenario.n_skus,), "one": ()}[self.per]

    def bounds(self, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
        """(low, high), each with the parameter's shape."""
        shape = self.shape(scenario)
        low = np.broadcast_to(np.asarray(self.low, dtype=float), shape)
        return low, np.maximum(np.broadcast_to(np.asarray(self.high, dtype=float), shape), low)

    def initial(self, scenario: Scenario) -> np.ndarray:
        """The untuned value, with the parameter's shape, inside its bounds."""
        value = np.broadcast_to(np.asarray(self.default, dtype=float), self.shape(scenario))
        return np.clip(value, *self.bounds(scenario))


class LevelChain:
    """(s, S) at every node from levels a family computes; horizon-aware (module docstring).

    Keyword arguments are the family's :meth:`parameters` (``None``: the untuned value).
    The supplier always fulfils in full (action 0).
    """

    #: Order on the echelon position at the warehouse (else its own position).
    echelon: ClassVar[bool] = False
    #: Stores act through their four actions (else free quantities).
    through_actions: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        self.params = {k: v for k, v in params.items() if v is not None}

    # ----------------------------------------------------------------- the family
    @classmethod
    def parameters(cls, scenario: Scenario) -> list[Parameter]:
        """The tunable parameters, with untuned values for ``scenario``."""
        return [
            Parameter("store_cutoff_days", "one", 0.0, 15.0, 0.0, "days"),
            Parameter("warehouse_cutoff_days", "one", 0.0, 15.0, 0.0, "days"),
            Parameter("store_min_fill", "one", 0.0, 1.0, 0.0, "fraction"),
        ]

    def store_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        """Reorder point and order-up-to level (B, N) or (N,), units of position."""
        raise NotImplementedError

    def warehouse_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        """Reorder point and order-up-to level (B, K) or (K,), units of (echelon) position."""
        raise NotImplementedError

    # ----------------------------------------------------------------- controller
    def reset(self, scenario: Scenario, batch_size: int) -> None:
        self.scenario = scenario
        self.batch_size = batch_size
        self.plan = _plan(scenario)
        self.store_role = StoreRole(scenario)
        specs = self.parameters(scenario)
        unknown = sorted(set(self.params) - {spec.name for spec in specs})
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown parameters {unknown}")
        self.p = {
            spec.name: per_copy(
                self.params.get(spec.name, spec.initial(scenario)),
                spec.shape(scenario),
                batch_size,
                spec.name,
            )
            for spec in specs
        }
        wh, sup = scenario.warehouse, scenario.supplier
        self.store_lead = wh.lead_time
        self.supplier_lead = sup.lead_time
        #: the expected supplier lead time, late shipments included (days)
        self.expected_supplier_lead = sup.lead_time + (1.0 - sup.reliability) * sup.delay_days

    def decide(self, view: ChainView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # the warehouse's levels first: a family's store levels may look at them
        self.today = {"warehouse_levels": self.warehouse_levels(view)}
        return (
            self.store_orders(view),
            self.warehouse_orders(view),
            np.zeros(view.batch_size, dtype=np.int64),
        )

    def store_orders(self, view: ChainView) -> np.ndarray:
        """Units (B, N) each slot orders."""
        reorder, order_up_to = self.store_levels(view)
        position = view.store_position
        open_ = view.day + self.store_lead + self.p["store_cutoff_days"] < view.episode_days
        target = np.where((position <= reorder) & open_, order_up_to - position, 0.0)
        target = np.maximum(np.rint(target), 0.0)
        if not self.through_actions:
            return self.skip_unfilled(view, target.astype(np.int64), position)
        options = np.rint(STORE_ORDER_MULTIPLIERS * view.forecast[..., None])
        infeasible = options > self.store_role.room(position)[..., None]
        infeasible[..., 0] = False
        actions = _closest_option(target, options, infeasible)
        orders = self.store_role.order_quantities(actions, view)
        return self.skip_unfilled(view, orders, position)

    def skip_unfilled(
        self, view: ChainView, orders: np.ndarray, position: np.ndarray
    ) -> np.ndarray:
        """Drop the orders the warehouse could fill to less than ``store_min_fill`` of them
        (and those it could not fill at all): each costs the fixed ordering cost whatever
        arrives. What it can ship today is its stock plus this morning's deliveries, shared
        pro rata over the requests (cut to the stores' rooms) as the twin shares it."""
        room = np.maximum(self.store_role.room(position), 0).astype(np.int64)
        requested = np.minimum(orders, room)  # what the twin will take of each order
        batch, k = view.batch_size, view.n_skus
        arriving = view.warehouse_pipeline[..., view.day % view.warehouse_pipeline.shape[-1]]
        available = (view.warehouse_on_hand + arriving)[:, None, :]  # (B, 1, K)
        per_store = requested.reshape(batch, -1, k)  # (B, S, K)
        total = np.einsum("bsk->bk", per_store)[:, None, :]
        share = np.minimum(available, total)
        shipped = (per_store * share // np.maximum(total, 1)).reshape(requested.shape)
        keep = (shipped > 0) & (shipped >= self.p["store_min_fill"] * requested)
        return np.where(keep, orders, 0)

    def warehouse_position(self, view: ChainView) -> np.ndarray:
        """(B, K) the position the warehouse's levels apply to: echelon or its own."""
        if "position" not in self.today:
            self.today["position"] = (
                view.echelon_position if self.echelon else view.warehouse_position
            )
        return self.today["position"]

    def warehouse_orders(self, view: ChainView) -> np.ndarray:
        """Units (B, K) the warehouse orders, per SKU."""
        reorder, order_up_to = self.today["warehouse_levels"]
        position = self.warehouse_position(view)
        reach = view.day + self.supplier_lead + self.store_lead  # the first shelf it can reach
        open_ = reach + self.p["warehouse_cutoff_days"] < view.episode_days
        target = np.where((position <= reorder) & open_, order_up_to - position, 0.0)
        return np.maximum(np.rint(target), 0.0).astype(np.int64)


_PLANS: dict[Scenario, DemandPlan] = {}


def _plan(scenario: Scenario) -> DemandPlan:
    """The scenario's :class:`DemandPlan`, built once (controllers reset per episode)."""
    if scenario not in _PLANS:
        if len(_PLANS) > 32:
            _PLANS.clear()
        _PLANS[scenario] = DemandPlan(scenario)
    return _PLANS[scenario]
