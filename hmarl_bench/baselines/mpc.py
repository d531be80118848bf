"""A rolling-horizon MILP controller (model-predictive control) for the whole chain.

Each day, for every copy, :class:`RollingHorizonMILP` solves the chain's deterministic
ordering problem over the next ``horizon`` days (cut at the episode's end) with what a real
controller has on that morning (:class:`~hmarl_bench.twin.view.ChainView`): stock on hand,
what is in transit and when it lands, the scenario's nominal demand profile (seasonality,
announced spikes), the supplier's nominal lead time (its expected lateness rounded in), the
capacities and costs. It places the plan's first-day orders and throws the rest away; the
next morning it plans again from the new state. It never sees realized demand or late days:
non-anticipative by construction (``tests/test_mpc.py`` changes the future and checks the
orders up to that day do not move).

The model is the clairvoyant bound's (:func:`~hmarl_bench.baselines.chain_milp.build_chain_model`,
binary order indicators for the fixed ordering cost, continuous quantities rounded to whole
units when placed) with the KPI's accounting (warm-up days cost nothing and their orders
are free; units in transit cost no holding), plus safety stock as soft floors under
end-of-day on hand, each missing unit-day costing :data:`SAFETY_PENALTY_SHARE` of the
lost-sales penalty:

- a store slot: ``store_safety`` standard deviations of its demand over its cover window
  (``L + 1`` days from that window day);
- the warehouse: ``warehouse_safety`` standard deviations of the chain's demand over the
  supplier's lead time.

With zero safety and a deterministic scenario, the controller's cost is the clairvoyant
optimum (tested). Cost: a MILP of about ``(S + 1) x horizon`` binaries per copy and day; the
solve time per day is kept in :attr:`RollingHorizonMILP.solve_seconds`. One SKU only (as
the bound).
"""

from __future__ import annotations

import math
import time

import numpy as np

from hmarl_bench.baselines.chain_milp import ChainProblem, build_chain_model
from hmarl_bench.baselines.levels import DemandPlan, per_copy
from hmarl_bench.config import Scenario
from hmarl_bench.twin import ChainView

__all__ = ["DEFAULT_HORIZON", "SAFETY_GRID", "SAFETY_PENALTY_SHARE", "RollingHorizonMILP"]

#: Planning days per solve: the supplier's lead time plus the store's, plus two weeks of
#: use after the first order lands, in the default chains.
DEFAULT_HORIZON = 21
#: A unit-day below a safety floor costs this share of the lost-sales penalty.
SAFETY_PENALTY_SHARE = 0.5
#: (store_safety, warehouse_safety) that ``tuned_mpc_free`` tries besides the defaults: a small
#: grid, as each candidate costs a MILP per copy and day.
SAFETY_GRID = ((0.5, 0.0), (1.5, 0.0))


class RollingHorizonMILP:
    """Model-predictive control of the whole chain (module docstring).

    ``horizon`` days per plan; ``store_safety`` / ``warehouse_safety`` in standard
    deviations (see module; a number, or one per copy); each solve stops at ``mip_rel_gap``
    (so results do not depend on the machine's speed) or, as a safeguard that the default
    chains never reach, after ``time_limit`` seconds. The supplier always fulfils (action 0).
    """

    def __init__(
        self,
        horizon: int = DEFAULT_HORIZON,
        store_safety: float | np.ndarray = 1.0,
        warehouse_safety: float | np.ndarray = 0.0,
        mip_rel_gap: float = 1e-3,
        time_limit: float = 60.0,
    ) -> None:
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1 day, got {horizon}")
        self.horizon = int(horizon)
        self.store_safety = store_safety
        self.warehouse_safety = warehouse_safety
        self.mip_rel_gap = mip_rel_gap
        self.time_limit = time_limit
        self.solve_seconds: list[list[float]] = []  # per day: each copy's solve time

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        if scenario.n_skus > 1:
            raise ValueError(
                f"the rolling-horizon MILP models one SKU; scenario {scenario.name!r} has "
                f"{scenario.n_skus} SKUs"
            )
        self.scenario = scenario
        self.batch_size = batch_size
        self._store_z = per_copy(self.store_safety, (), batch_size, "store_safety").ravel()
        self._warehouse_z = per_copy(
            self.warehouse_safety, (), batch_size, "warehouse_safety"
        ).ravel()
        plan = DemandPlan(scenario)
        sup, wh = scenario.supplier, scenario.warehouse
        self.expected_lead = int(
            math.floor(sup.lead_time + (1 - sup.reliability) * sup.delay_days + 0.5)
        )
        days = np.arange(scenario.episode_days)
        # per day: a store's safety floor and the warehouse's, in units (before the factors)
        self.store_spread = np.sqrt(
            np.stack([plan.slot_var.window(d, wh.lead_time + 1.0) for d in days])
        )
        self.chain_spread = np.sqrt(
            np.stack([plan.chain_var.window(d, float(max(sup.lead_time, 1))) for d in days])
        )[:, 0]
        self.store_capacity = np.array([s.capacity for s in scenario.stores], dtype=float)
        self.solve_seconds = []

    def decide(self, view: ChainView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_days = min(self.horizon, view.days_left)
        store_pipeline = view.store_pipeline_by_arrival
        warehouse_pipeline = view.warehouse_pipeline_by_arrival
        store_orders = np.zeros((view.batch_size, view.n_slots), dtype=np.int64)
        warehouse_orders = np.zeros((view.batch_size, 1), dtype=np.int64)
        seconds = []
        for copy in range(view.batch_size):
            started = time.perf_counter()
            problem = self.problem(view, copy, n_days, store_pipeline, warehouse_pipeline)
            built = build_chain_model(problem)
            result = built.solve(self.time_limit, self.mip_rel_gap)
            seconds.append(time.perf_counter() - started)
            if result.x is None:  # no plan within the time limit: order nothing today
                continue
            store_orders[copy] = np.maximum(np.rint(result.x[built.store_orders[0]]), 0)
            warehouse_orders[copy, 0] = max(np.rint(result.x[built.warehouse_orders[0]]), 0)
        self.solve_seconds.append(seconds)
        return store_orders, warehouse_orders, np.zeros(view.batch_size, dtype=np.int64)

    def problem(
        self,
        view: ChainView,
        copy: int,
        n_days: int,
        store_pipeline: np.ndarray,
        warehouse_pipeline: np.ndarray,
    ) -> ChainProblem:
        """Copy ``copy``'s problem for the next ``n_days`` days, from today's view."""
        sc, day = self.scenario, view.day
        window = slice(day, day + n_days)
        warm = min(max(sc.warmup_days - day, 0), n_days)  # window days still in the warm-up
        penalty = SAFETY_PENALTY_SHARE * sc.costs.stockout_penalty
        demand = view.nominal_demand[window]
        store_z = float(self._store_z[copy % self._store_z.size])
        warehouse_z = float(self._warehouse_z[copy % self._warehouse_z.size])
        store_floor = store_z * self.store_spread[window]
        warehouse_floor = warehouse_z * self.chain_spread[window]
        # the largest order worth placing: all the demand left in the window once it lands,
        # plus the highest floors (a tight big-M for the fixed-cost indicators)
        left = np.cumsum(demand[::-1], axis=0)[::-1]  # demand from day t to the window's end
        lead = sc.warehouse.lead_time
        store_need = np.zeros_like(demand)
        store_need[: max(n_days - lead, 0)] = left[lead:]
        store_limit = store_need + max(float(np.max(store_floor, initial=0.0)), 0.0)
        chain_need = np.zeros(n_days)
        reach = self.expected_lead + lead
        chain_need[: max(n_days - reach, 0)] = left[reach:].sum(axis=1)
        warehouse_limit = chain_need + max(float(np.max(warehouse_floor, initial=0.0)), 0.0)
        warehouse_limit += max(float(np.max(store_floor, initial=0.0)), 0.0) * view.n_slots
        return ChainProblem(
            demand=demand,
            supplier_lead=np.full(n_days, self.expected_lead),
            store_on_hand=view.store_on_hand[copy].astype(float),
            warehouse_on_hand=float(view.warehouse_on_hand[copy, 0]),
            store_pipeline=store_pipeline[copy],
            warehouse_pipeline=warehouse_pipeline[copy, 0],
            store_capacity=self.store_capacity,
            warehouse_capacity=float(sc.warehouse.capacity),
            supplier_capacity=float(sc.supplier.capacity),
            store_lead=sc.warehouse.lead_time,
            costs=sc.costs,
            # the KPI's own accounting: warm-up days cost nothing, orders in them are free
            counted=np.arange(day, day + n_days) >= sc.warmup_days,
            charged_from=warm,
            exact_sales_days=warm,
            store_safety=store_floor,
            warehouse_safety=warehouse_floor,
            store_order_limit=np.ceil(np.minimum(store_limit, self.store_capacity)),
            warehouse_order_limit=np.ceil(
                np.minimum(warehouse_limit, min(sc.warehouse.capacity, sc.supplier.capacity))
            ),
            safety_penalty=penalty if (store_z > 0 or warehouse_z > 0) else 0.0,
        )

    @classmethod
    def tuning_grid(cls, scenario: Scenario) -> list[dict[str, float]]:
        """The defaults, then :data:`SAFETY_GRID`."""
        return [{}, *({"store_safety": s, "warehouse_safety": w} for s, w in SAFETY_GRID)]

    def solve_stats(self) -> dict[str, float]:
        """Seconds per solve (one copy-day): mean and max; and per simulated day (all copies)."""
        flat = [s for day in self.solve_seconds for s in day]
        if not flat:
            return {}
        return {
            "mean_solve_seconds": float(np.mean(flat)),
            "max_solve_seconds": float(np.max(flat)),
            "mean_seconds_per_day": float(np.mean([sum(day) for day in self.solve_seconds])),
            "solves": len(flat),
        }
