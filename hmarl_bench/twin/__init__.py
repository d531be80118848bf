"""The digital twin: B independent copies of the supply chain advanced in lockstep."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.seeding import check_seed
from hmarl_bench.twin.demand import sample_demand
from hmarl_bench.twin.dynamics import SUPPLIER_ACTIONS, TwinParams, step
from hmarl_bench.twin.exogenous import (
    REGIME_STREAM,
    SUPPLIER_STREAM,
    demand_regime_path,
    regime_mean,
    supplier_up_path,
)
from hmarl_bench.twin.params import chain_params
from hmarl_bench.twin.state import DayOutcome, TwinState
from hmarl_bench.twin.view import ChainView

__all__ = [
    "SUPPLIER_ACTIONS",
    "ChainView",
    "DayOutcome",
    "DigitalTwin",
    "Exogenous",
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


@dataclass(frozen=True)
class Exogenous:
    """An episode's exogenous arrays for B copies: what no policy can change or observe."""

    demand: np.ndarray  # (B, T, N) int64 units demanded per slot and day
    supplier_late: np.ndarray  # (B, T) bool: the day's supplier shipment is late
    demand_regime: np.ndarray  # (B, T) int64 the hidden market regime (0 without regimes)
    supplier_up: np.ndarray  # (B, T) bool: the supplier can ship (True without disruptions)


class DigitalTwin:
    """Simulates ``batch_size`` copies of a scenario's chain, one day per :meth:`step`.

    All randomness (the episode's demand, the supplier's late shipments, and where the
    scenario has them the hidden demand regime and the supplier's outages) is drawn per
    copy at :meth:`reset` from its own seed, so copies are independent, a seed fixes a
    whole episode, and every policy run on a seed faces the same demand.
    """

    def __init__(self, scenario: Scenario | str = "default", batch_size: int = 1) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.scenario = load_scenario(scenario)
        self.batch_size = batch_size
        self.params = TwinParams.from_scenario(self.scenario)
        #: (T, N) the nominal demand profile, read-only (shared with the scenario's roles)
        self.mean_demand = chain_params(self.scenario).profile
        self._nominal = self.mean_demand  # what views show controllers
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

    def draw_exogenous(self, seed: int | Sequence[int]) -> Exogenous:
        """Every copy's exogenous arrays (see :class:`Exogenous`).

        The copy's generator draws demand, then the late flags, as it always has; the
        regime and outage paths come from children of its seed sequence, only when the
        scenario has them (:mod:`hmarl_bench.twin.exogenous`), so scenarios without them
        draw exactly what they drew before these processes existed.
        """
        sc = self.scenario
        batch, days = self.batch_size, sc.episode_days
        regimes, disruption = sc.demand.regimes, sc.supplier.disruption
        demand = np.empty((batch, days, sc.n_slots), dtype=np.int64)
        late = np.empty((batch, days), dtype=bool)
        regime = np.zeros((batch, days), dtype=np.int64)
        up = np.ones((batch, days), dtype=bool)
        for b, seq in enumerate(copy_seed_sequences(seed, batch)):
            rng = np.random.default_rng(seq)
            mean = self.mean_demand
            streams = seq.spawn(2) if regimes.enabled or disruption.enabled else []
            if regimes.enabled:
                regime_rng = np.random.default_rng(streams[REGIME_STREAM])
                regime[b] = demand_regime_path(regime_rng, regimes, days)
                mean = regime_mean(mean, regimes, regime[b])
            demand[b] = sample_demand(rng, sc.demand, mean)
            late[b] = rng.random(days) >= sc.supplier.reliability
            if disruption.enabled:
                up_rng = np.random.default_rng(streams[SUPPLIER_STREAM])
                up[b] = supplier_up_path(up_rng, disruption, days)
        return Exogenous(demand, late, regime, up)

    def reset(self, seed: int | Sequence[int] = 0) -> TwinState:
        """Start every copy on day 0 with the scenario's initial stock and a fresh draw."""
        sc, p = self.scenario, self.params
        b, n, k = self.batch_size, sc.n_slots, sc.n_skus
        exogenous = self.draw_exogenous(seed)
        # the planner's prior: the nominal mean of day 0 (without any hidden regime)
        nominal = self.mean_demand[0]
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
            demand=exogenous.demand,
            supplier_late=exogenous.supplier_late,
            demand_regime=exogenous.demand_regime,
            supplier_up=exogenous.supplier_up,
        )
        return self.state

    def reset_tiled(self, seeds: Sequence[int]) -> TwinState:
        """Start every copy on day 0, copy ``b`` facing the episode of ``seeds[b % len(seeds)]``.

        For common random numbers over many candidates: ``batch_size`` must be a multiple
        of ``len(seeds)``; each seed's episode is drawn once and repeated (copies ``c n ..
        c n + n - 1`` are one block of the n seeds), so copy ``b`` equals a single copy
        reset with ``seeds[b % n]``. Every state array is repeated, exogenous ones included.
        """
        seeds = [int(s) for s in seeds]
        if not seeds or self.batch_size % len(seeds):
            raise ValueError(
                f"batch_size {self.batch_size} is not a multiple of the {len(seeds)} seeds"
            )
        repeats = self.batch_size // len(seeds)
        block = DigitalTwin(self.scenario, len(seeds)).reset(seeds)
        self.state = TwinState(
            **{
                f.name: _tiled(getattr(block, f.name), repeats)
                for f in dataclasses.fields(TwinState)
            }
        )
        return self.state

    def view(self) -> ChainView:
        """What a controller may read at the start of today (:class:`ChainView`)."""
        if self.state is None:
            raise RuntimeError("call reset() before view()")
        return ChainView.of(self.state, self.scenario, self._nominal)

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


def _tiled(value, repeats: int):
    """An array repeated ``repeats`` times along its batch axis (other values as they are)."""
    if not isinstance(value, np.ndarray):
        return value
    return np.tile(value, (repeats,) + (1,) * (value.ndim - 1))
