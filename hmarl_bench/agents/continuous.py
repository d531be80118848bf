"""A continuous head on the order-up-to tracks: the level itself, not a point of a grid.

The ``planner`` and ``view`` tracks (:mod:`hmarl_bench.agents.planner`,
:mod:`hmarl_bench.agents.view_track`) let a role choose an order-up-to level on a grid
(``Discrete``). Continuous-action learners (SB3 SAC, TD3, DDPG, sb3-contrib TQC) choose it
on a line instead: :class:`ContinuousStoreRole` and :class:`ContinuousWarehouseRole` wrap
a track's store and warehouse roles (:func:`continuous_role`) with the same observations
and another action. The supplier keeps its categorical actions (fulfil / partial / delay),
and the seed track, whose actions are order sizes, has no order-up-to level to set: both
are refused (ValueError).

Actions are ``Box(-1, 1)`` (the range SB3's squashed policies act in), one value per
store-SKU slot, and one per SKU for the warehouse (``Box(-1, 1, (K,))``). A value ``a``
maps affinely onto the grid's range of days of cover, ``c = (a + 1) / 2 x top``:

- store: ``top`` = ``max(STORE_COVER_DAYS)`` (8 days); the level is ``c x forecast`` units;
- warehouse: ``top`` = ``max(WAREHOUSE_COVER_DAYS)`` (24 days); the *echelon* level is the
  chain's nominal demand over days ``t .. t + c - 1`` as on the grid, the last day counted
  for its fraction when ``c`` is fractional (``floor(c)`` whole days plus ``c - floor(c)``
  of the next; within 1e-6 days of a whole day counts as that day, so that SB3's float32
  actions of the grid's points give the grid's levels), the last day's value repeated past
  the horizon;

so ``a = -1`` is level 0 (order nothing), ``a = +1`` the grid's top level, and a value that
lands on a grid point gives that point's order, to the unit. The order is the discrete
roles' ``max(0, rint(level - position))`` (the echelon position for the warehouse), 0 when
it can no longer land before the horizon (``horizon_mask``); orders past a capacity are
cut by the twin, as for a policy without masks on the grid. Values outside [-1, 1] are
clipped. No action is ever infeasible, so the masks are all True (one column).

Where a model meets a role, a model with ``Box`` actions (:func:`is_continuous`) acts
through this head: :class:`~hmarl_bench.agents.policy.PolicyAgent` wraps its role,
:class:`ContinuousModelStores` passes the stores' levels on unrounded, and
:class:`HeadController` (a :class:`~hmarl_bench.evaluation.RoleController`) wraps the roles
named in its ``heads``; :func:`model_controller` builds the chain's controller for trained
models either way. The training envs take ``continuous=True``
(:class:`~hmarl_bench.envs.vec.SharedPolicyVecEnv`,
:class:`~hmarl_bench.envs.upper_vec.WarehouseVecEnv`).

Nothing here is imported by the rules, the baselines or the evaluation loop: their code
(and the fingerprints of the benchmark cells that run them) does not change with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from hmarl_bench.agents.base import Role
from hmarl_bench.agents.planner import (
    STORE_COVER_DAYS,
    WAREHOUSE_COVER_DAYS,
    PlannerStoreRole,
    PlannerWarehouseRole,
)
from hmarl_bench.config import Scenario
from hmarl_bench.evaluation import ModelStores, RoleController
from hmarl_bench.twin import ChainView
from hmarl_bench.twin.state import pipeline_total

__all__ = [
    "STORE_TOP_DAYS",
    "WAREHOUSE_TOP_DAYS",
    "ContinuousModelStores",
    "ContinuousStoreRole",
    "ContinuousWarehouseRole",
    "HeadController",
    "action_of_days",
    "continuous_role",
    "days_of_action",
    "is_continuous",
    "model_controller",
    "model_stores",
]

#: Days of forecast cover of a store's action +1 (the grid's top level).
STORE_TOP_DAYS = float(STORE_COVER_DAYS.max())
#: Days of the chain's nominal demand of the warehouse's action +1 (the grid's top level).
WAREHOUSE_TOP_DAYS = float(WAREHOUSE_COVER_DAYS.max())


def days_of_action(actions: np.ndarray, top: float) -> np.ndarray:
    """Days of cover of actions in [-1, 1] (clipped): ``(a + 1) / 2 x top``, float64."""
    a = np.clip(np.asarray(actions, dtype=np.float64), -1.0, 1.0)
    return (a + 1.0) / 2.0 * top


def action_of_days(days: np.ndarray, top: float) -> np.ndarray:
    """The action of ``days`` of cover: the inverse of :func:`days_of_action`, float64."""
    return 2.0 * np.asarray(days, dtype=np.float64) / top - 1.0


def is_continuous(model: Any) -> bool:
    """Whether ``model`` (anything with SB3's ``action_space``) acts on a ``Box``."""
    return isinstance(getattr(model, "action_space", None), spaces.Box)


def continuous_role(role: Role) -> Role:
    """``role`` (a planner or view track's store or warehouse role) with the continuous
    head; a ValueError, in one line, for the seed track's roles and for the supplier."""
    if isinstance(role, ContinuousStoreRole | ContinuousWarehouseRole):
        return role
    if isinstance(role, PlannerStoreRole):
        return ContinuousStoreRole(role)
    if isinstance(role, PlannerWarehouseRole):
        return ContinuousWarehouseRole(role)
    if "Supplier" in type(role).__name__:
        raise ValueError(
            "the supplier's actions are categorical (fulfil / partial / delay): no "
            "continuous order-up-to level to set"
        )
    raise ValueError(
        f"continuous order-up-to levels need the planner or view track, not {type(role).__name__} "
        "(the seed track's actions are order sizes)"
    )


class _Wrapped(Role):
    """A track's role with another action head: everything but the actions is the base's."""

    action_names = ("cover_days",)
    n_actions = 1  # one value per agent (per SKU for the warehouse); masks have one column

    def __init__(self, base: Role) -> None:
        self.base = base

    def __getattr__(self, name: str) -> Any:
        if name == "base":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.base, name)

    @property
    def obs_dim(self) -> int:  # type: ignore[override]
        return self.base.obs_dim

    @property
    def obs_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.base.obs_names

    @property
    def observation_space(self) -> spaces.Box:
        return self.base.observation_space


class ContinuousStoreRole(_Wrapped):
    """Every store-SKU slot on a planner or view track, with a level of 0 ..
    :data:`STORE_TOP_DAYS` days of forecast cover per slot (module docstring)."""

    top_days = STORE_TOP_DAYS

    def __init__(self, base: PlannerStoreRole) -> None:
        if not isinstance(base, PlannerStoreRole):
            raise TypeError(f"the continuous head wraps a planner or view store role, not {base}")
        super().__init__(base)

    @property
    def action_space(self) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)

    def observe(self, state: Any, *, position: np.ndarray | None = None) -> np.ndarray:
        return self.base.observe(state, position=position)

    def levels(self, actions: np.ndarray, state: Any) -> np.ndarray:
        """(B, N) the order-up-to level of each slot's action, in units."""
        days = days_of_action(np.reshape(actions, state.forecast.shape), self.top_days)
        return days * state.forecast

    def order_quantities(self, actions: np.ndarray, state: Any) -> np.ndarray:
        """Units each slot orders for ``actions`` (B, N) or (B, N, 1) in [-1, 1]: level -
        position, >= 0 (0 past the horizon with ``horizon_mask``), as on the grid."""
        shape = state.forecast.shape
        if self.base._past_horizon(state):
            return np.zeros(shape, dtype=np.int64)
        position = state.store_on_hand + pipeline_total(state.store_pipeline)
        return np.maximum(np.rint(self.levels(actions, state) - position), 0.0).astype(np.int64)

    def action_masks(self, state: Any, *, position: np.ndarray | None = None) -> np.ndarray:
        """(B, N, 1) all True: every level is allowed (the twin cuts orders past capacity)."""
        return np.ones((*state.forecast.shape, 1), dtype=bool)

    def rule_actions(self, state: Any, *, position: np.ndarray | None = None) -> np.ndarray:
        """The track's (s, S) rule on this head: the action of the grid level it picks
        (B, N) float64, which orders what the rule orders on the grid."""
        chosen = self.base.rule_actions(state, position=position)
        return action_of_days(STORE_COVER_DAYS[chosen], self.top_days)


class ContinuousWarehouseRole(_Wrapped):
    """The warehouse on a planner or view track, with an echelon level of 0 ..
    :data:`WAREHOUSE_TOP_DAYS` days of the chain's nominal demand per SKU (module
    docstring): actions (B, K)."""

    top_days = WAREHOUSE_TOP_DAYS

    def __init__(self, base: PlannerWarehouseRole) -> None:
        if not isinstance(base, PlannerWarehouseRole):
            raise TypeError(
                f"the continuous head wraps a planner or view warehouse role, not {base}"
            )
        super().__init__(base)
        longest = int(np.ceil(self.top_days)) + 1
        profile = base.chain_profile  # (T, K) the chain's nominal demand
        #: the profile with its last day repeated past the horizon, and its running sum from
        #: day 0 (cumulative[d] = sum of days < d), as the grid's levels are made
        self.padded = np.concatenate([profile, np.repeat(profile[-1:], longest, axis=0)])
        self.cumulative = np.concatenate(
            [np.zeros((1, base.n_skus)), np.cumsum(self.padded, axis=0)]
        )

    @property
    def action_space(self) -> spaces.Box:
        return spaces.Box(-1.0, 1.0, shape=(self.base.n_skus,), dtype=np.float32)

    def observe(self, state: Any) -> np.ndarray:
        return self.base.observe(state)

    def levels(self, actions: np.ndarray, state: Any) -> np.ndarray:
        """(B, K) the echelon order-up-to level of each SKU's action, in units."""
        k = self.base.n_skus
        days = days_of_action(np.reshape(actions, (-1, k)), self.top_days)
        near = np.rint(days)  # within 1e-6 days of a whole day is that day: float32 actions
        days = np.where(np.abs(days - near) < 1e-6, near, days)  # of grid points land on them
        whole = np.floor(days).astype(np.int64)
        fraction = days - whole
        today = min(int(state.day), self.base.horizon - 1)
        sku = np.arange(k)[None, :]
        summed = self.cumulative[today + whole, sku] - self.cumulative[today][None, :]
        return summed + fraction * self.padded[today + whole, sku]  # + 0.0 on a whole day

    def order_quantities(self, actions: np.ndarray, state: Any) -> np.ndarray:
        """Units per SKU for ``actions`` in [-1, 1] ((B,) or (B, 1) with one SKU, (B, K)):
        echelon level - echelon position, >= 0 (0 past the horizon with ``horizon_mask``);
        (B,) with one SKU, (B, K) with several, as on the grid."""
        gap = self.levels(actions, state) - self.base.echelon_position(state)
        orders = np.maximum(np.rint(gap), 0.0)
        if self.base._past_horizon(state):
            orders = np.zeros_like(orders)
        return self.base._per_sku(orders.astype(np.int64))

    def action_masks(self, state: Any) -> np.ndarray:
        """(B, K) all True: every level is allowed (the twin cuts orders past capacity)."""
        return np.ones((state.warehouse_on_hand.shape[0], self.base.n_skus), dtype=bool)

    def rule_actions(self, state: Any) -> np.ndarray:
        """The track's (s, S) rule on this head: (B, K) actions of the grid levels it picks."""
        chosen = np.reshape(self.base.rule_actions(state), (-1, self.base.n_skus))
        return action_of_days(WAREHOUSE_COVER_DAYS[chosen], self.top_days)


class ContinuousModelStores(ModelStores):
    """A trained continuous-action model acting for every store at once: its levels in
    [-1, 1], (B, N) float, for :class:`ContinuousStoreRole` (deterministic by default, as
    :class:`~hmarl_bench.evaluation.ModelStores`)."""

    def __call__(self, obs: np.ndarray, masks: np.ndarray, view: ChainView) -> np.ndarray:
        b, s, d = obs.shape
        rows = obs.reshape(b * s, d)
        actions = self.actor.predict(rows, view.day, deterministic=self.deterministic)
        return np.asarray(actions, dtype=np.float64).reshape(b, s)


def model_stores(model: Any) -> ModelStores:
    """The stores' policy of a trained model: :class:`ContinuousModelStores` for one with
    ``Box`` actions, else :class:`~hmarl_bench.evaluation.ModelStores`."""
    return ContinuousModelStores(model) if is_continuous(model) else ModelStores(model)


class HeadController(RoleController):
    """A :class:`~hmarl_bench.evaluation.RoleController` whose roles named in ``heads``
    (``"stores"``, ``"warehouse"``) set continuous order-up-to levels: their policies give
    actions in [-1, 1] and their roles are wrapped by :func:`continuous_role` at every
    reset. With no heads it is a RoleController, decision for decision."""

    def __init__(
        self,
        stores: Any = None,
        warehouse: Any = None,
        supplier: Any = None,
        interface: str = "seed",
        horizon_mask: bool = True,
        heads: tuple[str, ...] = (),
    ) -> None:
        super().__init__(stores, warehouse, supplier, interface, horizon_mask)
        self.heads = tuple(heads)

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        super().reset(scenario, batch_size)
        unknown = sorted(set(self.heads) - {"stores", "warehouse"})
        if unknown:
            raise ValueError(
                f"continuous heads are for the stores and the warehouse, not {unknown} (the "
                "supplier's actions are categorical)"
            )
        if "stores" in self.heads and self._stores is not None:
            self.store_role = continuous_role(self.store_role)
        if "warehouse" in self.heads and self._warehouse is not None:
            self.warehouse_role = continuous_role(self.warehouse_role)


def model_controller(
    stores: Any = None,
    warehouse: Any = None,
    supplier: Any = None,
    interface: str = "seed",
    horizon_mask: bool = True,
    heads: tuple[str, ...] = (),
) -> RoleController:
    """The chain's controller with the stores' trained model ``stores`` (or their rule),
    ``warehouse`` / ``supplier`` policies (callables, or their rules) on the ``interface``
    track: a :class:`HeadController` with the stores' head when the model acts on a
    ``Box`` (plus ``heads``, the upper roles whose policies set levels), else exactly the
    :class:`~hmarl_bench.evaluation.RoleController` every discrete learner gets."""
    policy = None if stores is None else model_stores(stores)
    heads = (*(("stores",) if is_continuous(stores) else ()), *heads)
    if not heads:
        return RoleController(policy, warehouse, supplier, interface, horizon_mask)
    return HeadController(policy, warehouse, supplier, interface, horizon_mask, heads)
