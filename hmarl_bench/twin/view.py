"""ChainView: what a real controller knows at the start of a day, and nothing else.

The twin's :class:`~hmarl_bench.twin.state.TwinState` also holds the episode's pre-drawn
exogenous arrays (the whole demand, the supplier's late days, and whatever exogenous process
is added later), so a policy handed the state could read the future. A controller is
handed a :class:`ChainView` instead: read-only views of the state's *endogenous* fields,
copied over by name from the whitelist :data:`VIEW_FIELDS` (never a reference to the
state itself), so any array added to the state later is left out automatically; plus what
a planner knows from the scenario's configuration (the nominal demand profile, the episode
length). Reading anything else, ``view.demand`` say, raises ``AttributeError``.

The fields carry the state's names and shapes (B copies, N store-SKU slots, K SKUs), so the
roles' vectorized methods (:meth:`StoreRole.observe`, ``rule_actions``, ``action_masks``)
work on a view unchanged. The arrays are read-only views of the state's: valid for the day
the view was built (the twin mutates its state in place when it steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hmarl_bench.config import Scenario
from hmarl_bench.twin.state import TwinState

__all__ = ["VIEW_FIELDS", "ChainView", "DayState", "read_only"]

#: The TwinState fields a controller may read (the endogenous ones), besides ``day``.
VIEW_FIELDS = (
    "store_on_hand",
    "store_pipeline",
    "warehouse_on_hand",
    "warehouse_pipeline",
    "forecast",
    "forecast_var",
    "recent_service",
    "stockout_yesterday",
    "warehouse_last_order",
    "supplier_last_shipped",
    "days_to_delivery",
)


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (no copy): writing to it raises ``ValueError``."""
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, slots=True)
class ChainView:
    """The start of day ``day`` as a controller sees it (see the module docstring).

    Shapes as in :class:`TwinState`: store arrays (B, N), store pipeline (B, N, Ps) and
    warehouse pipeline (B, K, Pw) as ring buffers (slot ``d % P`` arrives on day ``d``;
    :attr:`store_pipeline_by_arrival` re-orders them by days from today), warehouse arrays
    (B, K), ``days_to_delivery`` (B,). ``nominal_demand`` (T, N) is the scenario's expected
    demand per day and slot (seasonality and announced spikes included): what the
    configuration tells any planner in advance, not the realized demand.
    """

    day: int
    store_on_hand: np.ndarray
    store_pipeline: np.ndarray
    warehouse_on_hand: np.ndarray
    warehouse_pipeline: np.ndarray
    forecast: np.ndarray
    forecast_var: np.ndarray
    recent_service: np.ndarray
    stockout_yesterday: np.ndarray
    warehouse_last_order: np.ndarray
    supplier_last_shipped: np.ndarray
    days_to_delivery: np.ndarray
    scenario: Scenario
    nominal_demand: np.ndarray

    @classmethod
    def of(cls, state: TwinState, scenario: Scenario, nominal_demand: np.ndarray) -> ChainView:
        """The view of ``state``: its whitelisted fields, read-only, and the scenario's plan.

        ``nominal_demand`` is the scenario's (T, N) mean profile
        (:func:`~hmarl_bench.twin.demand.mean_demand`); pass it read-only to share it.
        """
        fields = {name: read_only(getattr(state, name)) for name in VIEW_FIELDS}
        if nominal_demand.flags.writeable:
            nominal_demand = read_only(nominal_demand)
        return cls(day=state.day, scenario=scenario, nominal_demand=nominal_demand, **fields)

    # ---------------------------------------------------------------- sizes and time
    @property
    def batch_size(self) -> int:
        return self.store_on_hand.shape[0]

    @property
    def n_slots(self) -> int:
        """Store-SKU slots N (the stores, with one SKU)."""
        return self.store_on_hand.shape[1]

    @property
    def n_skus(self) -> int:
        return self.warehouse_on_hand.shape[1]

    @property
    def episode_days(self) -> int:
        """T: the episode's length in days (days 0 .. T - 1)."""
        return self.scenario.episode_days

    @property
    def days_left(self) -> int:
        """Days still to simulate, today included: ``T - day``."""
        return self.scenario.episode_days - self.day

    # ---------------------------------------------------------------- positions
    # Integer sums are exact in any order: einsum sums a short last axis several times
    # faster than ndarray.sum, which matters for tuning's batches of thousands of copies.
    @property
    def store_position(self) -> np.ndarray:
        """Inventory position (B, N): on hand plus pipeline."""
        return self.store_on_hand + np.einsum("bnp->bn", self.store_pipeline)

    @property
    def warehouse_position(self) -> np.ndarray:
        """Inventory position (B, K): on hand plus pipeline."""
        return self.warehouse_on_hand + np.einsum("bkp->bk", self.warehouse_pipeline)

    @property
    def echelon_position(self) -> np.ndarray:
        """Echelon inventory position (B, K): the warehouse's position plus every store's
        position of the SKU (on hand and in transit, everywhere downstream of the supplier)."""
        stores = self.store_position.reshape(self.batch_size, -1, self.n_skus)
        return self.warehouse_position + np.einsum("bsk->bk", stores)

    # ---------------------------------------------------------------- pipelines by day
    @property
    def store_pipeline_by_arrival(self) -> np.ndarray:
        """(B, N, Ps): entry ``j`` arrives at the store on the morning of day ``day + j``."""
        return _by_arrival(self.store_pipeline, self.day)

    @property
    def warehouse_pipeline_by_arrival(self) -> np.ndarray:
        """(B, K, Pw): entry ``j`` arrives at the warehouse on the morning of ``day + j``."""
        return _by_arrival(self.warehouse_pipeline, self.day)


def _by_arrival(pipeline: np.ndarray, day: int) -> np.ndarray:
    """A ring buffer (slot ``d % P`` arrives on day ``d``) re-ordered from today on."""
    slots = pipeline.shape[-1]
    return pipeline[..., (day + np.arange(slots)) % slots]


#: What the roles' vectorized methods read: the twin's state (inside the envs, which own
#: it) or a controller's view (the same field names and shapes).
DayState = TwinState | ChainView
