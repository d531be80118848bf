"""Run a policy for whole episodes on the batched twin and score it on the business KPIs.

Every seed is one copy of a batch, so a set of seeds runs in one vectorized pass, and a
copy seeded with ``k`` faces the same demand as a single-copy env reset with seed ``k``:
running every policy on the same seeds gives common random numbers.

No peeking, by construction: a :class:`ChainController` is reset with the scenario and the
batch size only (never the twin, which holds the pre-drawn demand), and each day it decides
from a :class:`~hmarl_bench.twin.view.ChainView`, the whitelisted start-of-day fields a real
controller has. :func:`total_costs` is the lean path for tuning: only the total cost per
copy, equal to :func:`evaluate`'s to the bit, many candidates x seeds in one pass.

KPIs per episode, over days ``warmup_days ..`` (the warm-up is excluded):

- ``total_cost`` = ``holding_cost`` + ``lost_sales_cost`` + ``ordering_cost`` [currency]
- ``fill_rate``: units sold / units demanded over all stores [fraction]
- ``lost_sales``: units of demand not served [units]
- ``mean_store_inventory`` / ``mean_warehouse_inventory``: mean end-of-day on hand [units]
- ``store_reward``: the seed's store reward summed over days, averaged over stores
- ``store_holding_cost`` / ``warehouse_holding_cost``: ``holding_cost`` split by node
  [currency], from the stores' and the warehouse's reconciliation reports (the chain's cost
  is mostly warehouse holding, so figures show the two apart)

Decision time: :func:`evaluate` times every ``controller.decide(view)`` call (wall clock,
``time.perf_counter``) and puts ``1000 x (sum of those seconds) / (days x copies)`` in the
frame's ``attrs["decide_ms_per_chain_day"]`` (:data:`DECIDE_MS`): milliseconds to decide
one chain's orders (every store, the warehouse, the supplier) for one day, the batched
call's time shared equally among its copies. Building the view and stepping the twin are
not counted. It depends on the machine and its load, so it is a measurement, not a KPI.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from hmarl_bench.agents.actor import ModelActor
from hmarl_bench.agents.interfaces import make_roles
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.reconciliation import (
    ReconciliationReport,
    day_total_cost,
    reconcile,
    reward,
    system_cost,
)
from hmarl_bench.twin import ChainView, DigitalTwin

__all__ = [
    "DECIDE_MS",
    "KPI_COLUMNS",
    "ChainController",
    "ModelStores",
    "RoleController",
    "RuleStores",
    "StorePolicy",
    "evaluate",
    "kpis_from_reports",
    "total_costs",
]

#: The frame attribute (and cell ``info`` key) of the decision time per chain-day [ms].
DECIDE_MS = "decide_ms_per_chain_day"
KPI_COLUMNS = (
    "total_cost",
    "holding_cost",
    "lost_sales_cost",
    "ordering_cost",
    "fill_rate",
    "lost_sales",
    "mean_store_inventory",
    "mean_warehouse_inventory",
    "store_reward",
    "store_holding_cost",
    "warehouse_holding_cost",
)


class ChainController(Protocol):
    """Decides every node's orders for a batch of copies, day by day.

    ``reset`` gets what is fixed before the episode (the scenario, the number of copies);
    ``decide`` gets the day's :class:`ChainView` and returns (store order units (B, N),
    warehouse order units (B, K) or (B,), supplier action (B,)).
    """

    def reset(self, scenario: Scenario, batch_size: int) -> None: ...

    def decide(self, view: ChainView) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


class StorePolicy(Protocol):
    """Picks store actions (B, N) from observations (B, N, 7) and masks (B, N, 4)."""

    def __call__(self, obs: np.ndarray, masks: np.ndarray, view: ChainView) -> np.ndarray: ...


class RuleStores:
    """The stores' rule-based (s, S) policy on their four actions."""

    def __init__(self, role: Any) -> None:
        self.role = role

    def __call__(self, obs: np.ndarray, masks: np.ndarray, view: ChainView) -> np.ndarray:
        return self.role.rule_actions(view)


class ModelStores:
    """A trained SB3 model (anything with ``predict``) acting for every store at once.

    A recurrent model (RecurrentPPO) carries its LSTM state across the days of an episode
    (:class:`~hmarl_bench.agents.actor.ModelActor`). Maskable models receive the action
    masks; plain PPO acts unmasked and the twin cuts its over-sized orders, exactly as in
    training. A centralized-critic model's actor reads the local observations alone
    (:func:`~hmarl_bench.agents.actor.actor_observation`).
    """

    def __init__(self, model: Any, deterministic: bool = True) -> None:
        self.model = model
        self.deterministic = deterministic
        self.maskable = "Maskable" in type(model).__name__
        self.actor = ModelActor(model)  # a recurrent model's LSTM state, day to day

    def __call__(self, obs: np.ndarray, masks: np.ndarray, view: ChainView) -> np.ndarray:
        b, s, d = obs.shape
        kwargs: dict[str, Any] = {"deterministic": self.deterministic}
        if self.maskable:
            kwargs["action_masks"] = masks.reshape(b * s, -1)
        actions = self.actor.predict(obs.reshape(b * s, d), view.day, **kwargs)
        return np.asarray(actions, dtype=np.int64).reshape(b, s)


class RoleController:
    """Stores by a :class:`StorePolicy` on their actions; warehouse and supplier by rules.

    ``warehouse`` / ``supplier`` may be callables ``(obs, masks, view) -> actions (B,)``
    to replace the rules. The roles given a policy act on the ``interface`` track
    (:mod:`hmarl_bench.agents.interfaces`; ``horizon_mask`` for the planner track); the
    roles on rules keep the seed's rules.
    """

    def __init__(
        self,
        stores: StorePolicy | None = None,
        warehouse=None,
        supplier=None,
        interface: str = "seed",
        horizon_mask: bool = True,
    ) -> None:
        self._stores = stores
        self._warehouse = warehouse
        self._supplier = supplier
        self.interface = interface
        self.horizon_mask = horizon_mask

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        seed = make_roles(scenario, "seed")
        track = (
            make_roles(scenario, self.interface, self.horizon_mask)
            if self.interface != "seed"
            else seed
        )
        policies = (self._stores, self._warehouse, self._supplier)
        roles = [seed[i] if p is None else track[i] for i, p in enumerate(policies)]
        self.store_role, self.warehouse_role, self.supplier_role = roles
        self.stores = self._stores or RuleStores(self.store_role)

    def decide(self, view: ChainView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s_obs = self.store_role.observe(view)
        s_act = self.stores(s_obs, self.store_role.action_masks(view), view)
        if self._warehouse is None:
            w_act = self.warehouse_role.rule_actions(view)
        else:
            w_act = self._warehouse(
                self.warehouse_role.observe(view), self.warehouse_role.action_masks(view), view
            )
        if self._supplier is None:
            p_act = self.supplier_role.rule_actions(view)
        else:
            p_act = self._supplier(
                self.supplier_role.observe(view), self.supplier_role.action_masks(view), view
            )
        return (
            self.store_role.order_quantities(s_act, view),
            self.warehouse_role.order_quantities(w_act, view),
            np.asarray(p_act, dtype=np.int64),
        )


def kpis_from_reports(
    reports: Sequence[ReconciliationReport], scenario: Scenario
) -> dict[str, np.ndarray]:
    """KPIs per copy (B,) from the reports of days ``warmup_days ..`` of an episode."""
    used = [r for r in reports if r.day >= scenario.warmup_days]
    costs = [system_cost(r, scenario) for r in used]
    out = {k: _sum_days([c[k] for c in costs]) for k in costs[0]}
    sales = np.sum([r.stores.sales.sum(axis=1) for r in used], axis=0)
    demand = np.sum([r.stores.demand.sum(axis=1) for r in used], axis=0)
    out["fill_rate"] = np.where(demand > 0, sales / np.maximum(demand, 1), 1.0)
    out["lost_sales"] = np.sum([r.stores.lost_sales.sum(axis=1) for r in used], axis=0)
    out["mean_store_inventory"] = np.mean([r.stores.on_hand.sum(axis=1) for r in used], axis=0)
    out["mean_warehouse_inventory"] = np.mean([r.warehouse.on_hand for r in used], axis=0)
    out["store_holding_cost"] = np.sum([r.stores.holding_cost.sum(axis=1) for r in used], axis=0)
    out["warehouse_holding_cost"] = np.sum([r.warehouse.holding_cost for r in used], axis=0)
    out["store_reward"] = _sum_days(
        [reward(r.stores, scenario.store_reward).mean(axis=1) for r in used]
    )
    return {k: out[k] for k in KPI_COLUMNS}


def _sum_days(per_day: Sequence[np.ndarray]) -> np.ndarray:
    """Daily (B,) values summed day after day, in order.

    For B >= 2 this is what ``np.sum(per_day, axis=0)`` computes, bit for bit; written out
    so that a batch of one copy sums in the same order too (numpy would sum a lone column
    pairwise) and :func:`total_costs`, which accumulates as the days run, matches exactly.
    """
    total = np.array(per_day[0], dtype=np.float64, copy=True)
    for values in per_day[1:]:
        total += values
    return total


def evaluate(
    scenario: Scenario | str,
    controller: ChainController | None = None,
    seeds: Sequence[int] = (0,),
    keep_reports: bool = False,
) -> pd.DataFrame:
    """Run one episode per seed (all seeds as one batch); one row of KPIs per seed.

    With ``keep_reports`` the frame's ``attrs["reports"]`` holds the daily reports;
    ``attrs[DECIDE_MS]`` always holds the decision time per chain-day (module docstring).
    """
    scenario = load_scenario(scenario)
    controller = controller or RoleController()
    twin = DigitalTwin(scenario, batch_size=len(seeds))
    twin.reset(list(seeds))
    controller.reset(scenario, len(seeds))
    reports, decide_seconds = [], 0.0
    while not twin.done:
        view = twin.view()
        start = time.perf_counter()
        orders = controller.decide(view)
        decide_seconds += time.perf_counter() - start
        outcome = twin.step(*orders)
        reports.append(reconcile(outcome, scenario))
    kpis = kpis_from_reports(reports, scenario)
    frame = pd.DataFrame({"seed": list(seeds), **kpis})
    frame.attrs[DECIDE_MS] = 1000.0 * decide_seconds / max(len(reports) * len(seeds), 1)
    if keep_reports:
        frame.attrs["reports"] = reports
    return frame


def total_costs(
    scenario: Scenario | str,
    controller: ChainController,
    seeds: Sequence[int],
    repeats: int = 1,
) -> np.ndarray:
    """Total cost per copy (``repeats x len(seeds)``,), the lean way: no reports, no frame.

    Copy ``r n + i`` runs the episode of ``seeds[i]`` (``n = len(seeds)``), so ``repeats``
    candidates, each given as per-copy parameters of the controller in blocks of n copies,
    face the same episodes (common random numbers) in one batched pass. Equal to the
    ``total_cost`` column of :func:`evaluate` on the same seeds, bit for bit (tested).
    """
    scenario = load_scenario(scenario)
    seeds = [int(k) for k in seeds]
    twin = DigitalTwin(scenario, batch_size=len(seeds) * repeats)
    if repeats == 1:
        twin.reset(seeds)
    else:
        twin.reset_tiled(seeds)
    controller.reset(scenario, twin.batch_size)
    total = np.zeros(twin.batch_size)
    first = True
    while not twin.done:
        outcome = twin.step(*controller.decide(twin.view()))
        if outcome.day < scenario.warmup_days:
            continue
        day_cost = day_total_cost(outcome, scenario)
        if first:
            total, first = day_cost, False
        else:
            total += day_cost
    return total
