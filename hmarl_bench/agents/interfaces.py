"""The two interface tracks, and the chain's global state that a centralized critic reads.

``seed`` (the default) is the seed system's interface (:mod:`hmarl_bench.agents.roles`);
``planner`` gives every role what a planner knows and lets it set order-up-to levels
(:mod:`hmarl_bench.agents.planner`); ``view`` gives a learner everything a ChainView
controller may read plus memory of the last k days, on the planner's actions
(:mod:`hmarl_bench.agents.view_track`; ``"view:k"`` names k days of memory, ``"view"`` the
default). :func:`make_roles` builds a track's three roles, the one place a track name is
resolved.

:class:`ChainState` is the *global state* of a centralized critic (MAPPO-style): every
node's stock, position and pipeline, and the day, for every copy, as one vector in [0, 1]
read from the same non-exogenous state attributes as the planner roles::

    per store-SKU slot n (N x 5, slot-major):
        on_hand / store capacity, position / store capacity, forecast / demand_scale_n,
        stockout_yesterday, recent_service
    per SKU k (K x (3 + Pw)):
        warehouse on_hand / capacity, warehouse position / capacity,
        echelon position / echelon_scale, supplier pipeline by arrival day j / capacity
    day / episode_days, days_left / episode_days

Actors never read it: the critic's input is ``[local observation | global state]`` and
the actor reads the local part only (:mod:`hmarl_bench.learn.critic`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hmarl_bench.agents.base import Role
from hmarl_bench.agents.planner import (
    PlannerStoreRole,
    PlannerSupplierRole,
    PlannerWarehouseRole,
    pipeline_by_arrival,
)
from hmarl_bench.agents.roles import StoreRole, SupplierRole, WarehouseRole, _clip_unit
from hmarl_bench.agents.view_track import (
    DEFAULT_MEMORY_DAYS,
    ViewStoreRole,
    ViewSupplierRole,
    ViewWarehouseRole,
)
from hmarl_bench.config import Scenario
from hmarl_bench.twin.state import pipeline_total

__all__ = ["INTERFACES", "ChainState", "check_interface", "make_roles", "parse_interface"]

#: The interface tracks, by name; the first is the default.
INTERFACES: tuple[str, ...] = ("seed", "planner", "view")


def parse_interface(interface: str) -> tuple[str, int]:
    """(track, memory days) of an interface name: ``"view:14"`` -> ("view", 14); the
    memory is :data:`DEFAULT_MEMORY_DAYS` for a plain ``"view"`` (0 on the other tracks).
    A ValueError lists the tracks for anything else."""
    track, _, days = str(interface).partition(":")
    if track not in INTERFACES or (days and track != "view"):
        raise ValueError(
            f"unknown interface {interface!r}; choose one of {list(INTERFACES)} "
            "('view:k' for k days of memory)"
        )
    if track != "view":
        return track, 0
    if not days:
        return track, DEFAULT_MEMORY_DAYS
    if not days.isdigit() or int(days) < 1:
        raise ValueError(f"interface {interface!r}: memory days must be an integer >= 1")
    return track, int(days)


def check_interface(interface: str) -> str:
    """``interface`` if it names a track; else a ValueError that lists them."""
    parse_interface(interface)
    return interface


def make_roles(
    scenario: Scenario, interface: str = "seed", horizon_mask: bool = True
) -> tuple[Role, Role, Role]:
    """The (store, warehouse, supplier) roles of a track. ``horizon_mask`` applies to the
    planner and view tracks (the seed track has none). Each call makes new roles: the view
    track's roles hold their memory, one batch of episodes each."""
    track, memory_days = parse_interface(interface)
    if track == "seed":
        return StoreRole(scenario), WarehouseRole(scenario), SupplierRole(scenario)
    if track == "view":
        return (
            ViewStoreRole(scenario, horizon_mask, memory_days),
            ViewWarehouseRole(scenario, horizon_mask, memory_days),
            ViewSupplierRole(scenario),
        )
    return (
        PlannerStoreRole(scenario, horizon_mask),
        PlannerWarehouseRole(scenario, horizon_mask),
        PlannerSupplierRole(scenario),
    )


class ChainState:
    """The global state (B, dim) of every copy, for centralized critics (module docstring)."""

    def __init__(self, scenario: Scenario) -> None:
        self.n_skus = k = scenario.n_skus
        self.n_slots = scenario.n_slots
        self.horizon = scenario.episode_days
        stores = PlannerStoreRole(scenario)
        self.store_scale = stores.on_hand_scale
        self.demand_scale = stores.demand_scale
        warehouse = PlannerWarehouseRole(scenario)
        self.warehouse = warehouse
        self.capacity = warehouse.capacity
        self.pipeline_len = warehouse.pipeline_len
        self.dim = 5 * self.n_slots + k * (3 + self.pipeline_len) + 2

    def observe(self, state: Any) -> np.ndarray:
        batch, n = state.store_on_hand.shape
        position = state.store_on_hand + pipeline_total(state.store_pipeline)
        slots = np.empty((batch, n, 5))
        slots[..., 0] = state.store_on_hand / self.store_scale
        slots[..., 1] = position / self.store_scale
        slots[..., 2] = state.forecast / self.demand_scale
        slots[..., 3] = state.stockout_yesterday
        slots[..., 4] = state.recent_service
        w_position = state.warehouse_on_hand + pipeline_total(state.warehouse_pipeline)
        skus = np.empty((batch, self.n_skus, 3 + self.pipeline_len))
        skus[..., 0] = state.warehouse_on_hand / self.capacity
        skus[..., 1] = w_position / self.capacity
        skus[..., 2] = self.warehouse.echelon_position(state) / self.warehouse.echelon_scale
        skus[..., 3:] = pipeline_by_arrival(state.warehouse_pipeline, state.day) / self.capacity
        day = np.array([state.day, self.horizon - state.day], dtype=np.float64) / self.horizon
        values = np.concatenate(
            [slots.reshape(batch, -1), skus.reshape(batch, -1), np.tile(day, (batch, 1))], axis=1
        )
        return _clip_unit(values.astype(np.float32))
