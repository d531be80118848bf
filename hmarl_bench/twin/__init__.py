"""The digital twin: B independent copies of the supply chain advanced in lockstep."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.seeding import check_seed
from hmarl_bench.twin.demand import mean_demand, sample_demand
from hmarl_bench.twin.dynamics import SUPPLIER_ACTIONS, TwinParams, step
from hmarl_bench.twin.state import DayOutcome, TwinState

__all__ = [
    "SUPPLIER_ACTIONS",
    "DayOutcome",
    "DigitalTwin",
    "TwinParams",
    "TwinState",
    "copy_seed_sequences",
    "step",
]


def copy_seed_sequences(seed: int | Sequence[int], batch_size: int) -> list[np.random.SeedSequence]:
    """One independent seed sequence per copy.

    An int seed ``k`` gives copy ``b`` the stream ``SeedSequence(k, spawn_key=(b,))``, so copy
    0 of any batch equals a single copy seeded with ``k``. A sequence of seeds gives copy
    ``b`` the stream of a single copy seeded with ``seed[b]``: a batch evaluated on seeds
    ``[k1, k2, ...]`` faces exactly the demand of single runs on those seeds.
    """
    if isinstance(seed, int | np.integer):
        seed = check_seed(seed)
        return [np.random.SeedSequence(seed, spawn_key=(b,)) for b in range(batch_size)]
    seeds = [check_seed(s) for s in seed]
    if len(seeds) != batch_size:
        raise ValueError(f"got {len(seeds)} seeds for {batch_size} copies")
    return [np.random.SeedSequence(s, spawn_key=(0,)) for s in seeds]


class DigitalTwin:
    """Simulates ``batch_size`` copies of a scenario's chain, one day per :meth:`step`.

    All randomness (the episode's demand and the supplier's late shipments) is drawn per
    copy at :meth:`reset` from its own generator, so copies are independent, a seed fixes a
    whole episode, and every policy run on a seed faces the same demand.
    """

    def __init__(self, scenario: Scenario | str = "default", batch_size: int = 1) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.scenario = load_scenario(scenario)
        self.batch_size = batch_size
        self.params = TwinParams.from_scenario(self.scenario)
        self.mean_demand = mean_demand(self.scenario)  # (T, N)
        self.state: TwinState | None = None

    @property
    def n_stores(self) -> int:
        return self.scenario.n_stores

    @property
    def n_slots(self) -> int:
        """Store-SKU slots N = S x K (the stores, with one SKU)."""
        return self.scenario.n_slots

    @property
    def horizon(self) -> int:
        return self.scenario.episode_days

    def draw_exogenous(self, seed: int | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Demand (B, T, N) and late-shipment flags (B, T) for every copy."""
        sc = self.scenario
        demand = np.empty((self.batch_size, sc.episode_days, sc.n_slots), dtype=np.int64)
        late = np.empty((self.batch_size, sc.episode_days), dtype=bool)
        for b, seq in enumerate(copy_seed_sequences(seed, self.batch_size)):
            rng = np.random.default_rng(seq)
            demand[b] = sample_demand(rng, sc.demand, self.mean_demand)
            late[b] = rng.random(sc.episode_days) >= sc.supplier.reliability
        return demand, late

    def reset(self, seed: int | Sequence[int] = 0) -> TwinState:
        """Start every copy on day 0 with the scenario's initial stock and a fresh draw."""
        sc, p = self.scenario, self.params
        b, n, k = self.batch_size, sc.n_slots, sc.n_skus
        demand, late = self.draw_exogenous(seed)
        nominal = self.mean_demand[0]  # the planner's prior: the nominal mean of day 0
        cv = sc.demand.std / sc.demand.base_mean if sc.demand.base_mean > 0 else 0.0
        prior_var = nominal if sc.demand.distribution == "poisson" else (cv * nominal) ** 2
        self.state = TwinState(
            day=0,
            store_on_hand=np.tile(
                np.array(sc.per_slot([st.initial_inventory for st in sc.stores]), dtype=np.int64),
                (b, 1),
            ),
            store_pipeline=np.zeros((b, n, p.store_pipeline_len), dtype=np.int64),
            warehouse_on_hand=np.tile(
                np.array(sc.per_sku(sc.warehouse.initial_inventory), dtype=np.int64), (b, 1)
            ),
            warehouse_pipeline=np.zeros((b, k, p.warehouse_pipeline_len), dtype=np.int64),
            forecast=np.tile(nominal, (b, 1)),
            forecast_var=np.tile(prior_var, (b, 1)),
            recent_service=np.ones((b, n)),
            stockout_yesterday=np.zeros((b, n), dtype=bool),
            warehouse_last_order=np.zeros((b, k), dtype=np.int64),
            supplier_last_shipped=np.zeros((b, k), dtype=np.int64),
            days_to_delivery=np.zeros(b, dtype=np.int64),
            demand=demand,
            supplier_late=late,
        )
        return self.state

    @property
    def done(self) -> bool:
        return self.state is not None and self.state.day >= self.horizon

    def step(
        self,
        store_orders: np.ndarray,
        warehouse_order: np.ndarray,
        supplier_action: np.ndarray,
    ) -> DayOutcome:
        """Advance every copy one day. Shapes: (B, N), (B, K) or (B,), (B,); see :func:`step`."""
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if self.state.day >= self.horizon:
            raise RuntimeError(f"the episode ended after day {self.horizon - 1}; call reset()")
        return step(self.state, self.params, store_orders, warehouse_order, supplier_action)
