"""Scenario values: frozen, validated dataclasses.

A scenario is plain values in ``experiments/scenarios/<name>.toml``;
:func:`hmarl_bench.config.load_scenario` (:mod:`hmarl_bench.config.files`) turns it into a
frozen :class:`Scenario`. Every value is validated on construction, and any problem raises
one :class:`ScenarioError` that names the dotted key (``stores[1].capacity``) that is wrong.

Units: quantities are whole units of a SKU; costs and prices are currency units; holding
cost is currency per unit per day; lead times are days.

SKUs. A scenario sells one SKU (``[sku]``, the original form) or several (``[[skus]]``).
Every store stocks every SKU: a *slot* is one store x SKU pair, flattened store-major
(slot ``s * K + k`` is store ``s``, SKU ``k``; with one SKU, slots are stores). The stock
quantities of a store or the warehouse (``initial_inventory``, ``reorder_point``,
``order_up_to``, the warehouse's ``order_quantities``) are written for a SKU of
``demand_scale`` 1 and scaled to SKU ``k`` as ``round(value x demand_scale_k)``
(:meth:`Scenario.per_sku`); capacities are not scaled: they are shared by all SKUs of the
node (the sum over SKUs of on hand plus pipeline stays within them).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Costs",
    "Demand",
    "DemandRegimes",
    "RewardWeights",
    "Scenario",
    "ScenarioError",
    "Sku",
    "Spike",
    "Store",
    "Supplier",
    "SupplierDisruption",
    "Warehouse",
]

DEMAND_DISTRIBUTIONS = ("normal", "poisson", "negative_binomial")

#: Field metadata of values added after results were fingerprinted: ``to_dict`` leaves them
#: out while they hold their default, so older scenarios keep their fingerprints, and a
#: scenario file may leave them out (every other key is required, or ``extends`` gives it).
OMIT_DEFAULT = {"omit_default": True}


class ScenarioError(ValueError):
    """A scenario is invalid. ``key`` is the dotted path of the offending value."""

    def __init__(self, key: str, message: str, source: str | None = None) -> None:
        self.key = key
        self.message = message
        self.source = source
        where = f"{source}: " if source else ""
        at = f"key '{key}': " if key else ""
        super().__init__(f"{where}{at}{message}")


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ScenarioError(key, message)


def _non_negative(obj: Any, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        _require(value >= 0, name, f"must be >= 0, got {value!r}")


@dataclass(frozen=True)
class Sku:
    """A product. ``unit_cost`` and ``price`` are currency per unit (reported, not in cost).

    ``demand_scale`` multiplies the base demand of this SKU at every store, and the stock
    quantities written in the scenario (see the module docstring), so a slow mover
    (``demand_scale`` 0.3) starts with and re-orders 30% of a store's quantities.
    """

    name: str = "sku_1"
    unit_cost: float = 12.50
    price: float = 24.99
    demand_scale: float = field(default=1.0, metadata=OMIT_DEFAULT)

    def __post_init__(self) -> None:
        _non_negative(self, "unit_cost", "price", "demand_scale")


@dataclass(frozen=True)
class Costs:
    """Cost rates of the business KPIs (and of the reward's holding and ordering terms).

    holding_cost: currency per unit of end-of-day on-hand stock per day (stores).
    warehouse_holding_cost: the same at the warehouse.
    stockout_penalty: currency per unit of lost sales.
    ordering_cost: fixed currency per order placed (an order of a positive quantity).
    excess_cover_days: stock above this many days of forecast demand counts as excess.
    """

    holding_cost: float = 0.5
    warehouse_holding_cost: float = 0.5
    stockout_penalty: float = 10.0
    ordering_cost: float = 25.0
    excess_cover_days: float = 7.0

    def __post_init__(self) -> None:
        _non_negative(
            self,
            "holding_cost",
            "warehouse_holding_cost",
            "stockout_penalty",
            "ordering_cost",
            "excess_cover_days",
        )


@dataclass(frozen=True)
class Spike:
    """Demand multiplied by ``multiplier`` on days ``start_day .. start_day + duration - 1``."""

    start_day: int
    duration: int
    multiplier: float

    def __post_init__(self) -> None:
        _non_negative(self, "start_day", "multiplier")
        _require(self.duration >= 1, "duration", f"must be >= 1, got {self.duration}")


def _markov_durations(obj: Any, name: str) -> None:
    """Mean sojourns of a Markov chain's states, in days: each >= 1 (a daily switch
    probability ``1 / mean`` of at most 1)."""
    for i, days in enumerate(getattr(obj, name)):
        _require(days >= 1.0, f"{name}[{i}]", f"must be >= 1 day, got {days}")


@dataclass(frozen=True)
class DemandRegimes:
    """A hidden market regime that multiplies every store's demand mean (``[demand.regimes]``).

    Regime ``i`` multiplies the mean by ``multipliers[i]`` and lasts a geometric number of
    days with mean ``mean_durations[i]`` (it ends on any day with probability
    ``1 / mean_durations[i]``); then the market jumps to one of the other regimes, uniformly.
    Day 0's regime is drawn from the chain's stationary distribution (shares proportional to
    the mean durations), so every day's regime has the same distribution. One path per copy,
    shared by all stores and SKUs; no agent observes it. Empty (the default): no regimes.
    ``hmarl_bench.twin.demand.mean_demand`` (the planner's nominal profile) leaves the
    regimes out: it is the profile at multiplier 1, the expected demand when the stationary
    mean multiplier (:attr:`stationary_mean`) is 1, as in every shipped scenario.
    """

    multipliers: tuple[float, ...] = ()
    mean_durations: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        _require(
            len(self.multipliers) == len(self.mean_durations),
            "mean_durations",
            f"need one mean duration per multiplier, got {len(self.mean_durations)} for "
            f"{len(self.multipliers)}",
        )
        _require(len(self.multipliers) != 1, "multipliers", "need at least two regimes (or none)")
        for i, value in enumerate(self.multipliers):
            _require(value >= 0, f"multipliers[{i}]", f"must be >= 0, got {value}")
        _markov_durations(self, "mean_durations")

    @property
    def enabled(self) -> bool:
        return bool(self.multipliers)

    @property
    def stationary_shares(self) -> tuple[float, ...]:
        """Long-run share of days in each regime: proportional to its mean duration."""
        total = sum(self.mean_durations)
        return tuple(days / total for days in self.mean_durations)

    @property
    def stationary_mean(self) -> float:
        """The long-run mean multiplier (1.0 without regimes)."""
        if not self.enabled:
            return 1.0
        shares = self.stationary_shares
        return sum(s * m for s, m in zip(shares, self.multipliers, strict=True))


@dataclass(frozen=True)
class Demand:
    """Customer demand at each store (units/day) before the store's multiplier.

    The mean on day t is ``base_mean * (1 + seasonality_amplitude * sin(2 pi t / period))``
    times any active spike (and the hidden regime's multiplier, ``regimes``); ``std``
    scales with the mean (constant coefficient of variation).
    ``distribution``: ``normal`` (rounded and clipped at 0), ``poisson`` (std ignored) or
    ``negative_binomial`` (needs std**2 > mean: over-dispersed).
    """

    distribution: str = "normal"
    base_mean: float = 50.0
    std: float = 15.0
    seasonality_amplitude: float = 0.3
    seasonality_period: int = 30
    spikes: tuple[Spike, ...] = ()
    regimes: DemandRegimes = field(default_factory=DemandRegimes, metadata=OMIT_DEFAULT)

    def __post_init__(self) -> None:
        _require(
            self.distribution in DEMAND_DISTRIBUTIONS,
            "distribution",
            f"unknown distribution {self.distribution!r}; choose one of {DEMAND_DISTRIBUTIONS}",
        )
        _non_negative(self, "base_mean", "std")
        _require(
            0 <= self.seasonality_amplitude < 1,
            "seasonality_amplitude",
            f"must be in [0, 1), got {self.seasonality_amplitude}",
        )
        _require(
            self.seasonality_period >= 1,
            "seasonality_period",
            f"must be >= 1, got {self.seasonality_period}",
        )
        if self.distribution == "negative_binomial":
            _require(
                self.std**2 > self.base_mean,
                "std",
                "negative_binomial needs std**2 > base_mean (over-dispersion); "
                f"got std={self.std}, base_mean={self.base_mean}",
            )


@dataclass(frozen=True)
class Store:
    """One store. Quantities in units; ``capacity`` bounds on-hand plus pipeline."""

    name: str
    demand_multiplier: float = 1.0
    initial_inventory: int = 600
    capacity: int = 1500
    reorder_point: int = 250
    order_up_to: int = 700

    def __post_init__(self) -> None:
        _non_negative(self, "demand_multiplier", "initial_inventory", "capacity", "reorder_point")
        _require(
            self.capacity >= self.initial_inventory,
            "capacity",
            f"capacity {self.capacity} is below initial_inventory {self.initial_inventory}",
        )
        _require(
            self.reorder_point <= self.order_up_to <= self.capacity,
            "order_up_to",
            "need reorder_point <= order_up_to <= capacity, got "
            f"{self.reorder_point} / {self.order_up_to} / {self.capacity}",
        )


@dataclass(frozen=True)
class Warehouse:
    """The warehouse. ``lead_time`` is days from its shipment to the store's receipt.

    ``order_quantities`` are the units of its four discrete actions.
    """

    initial_inventory: int = 5000
    capacity: int = 15000
    reorder_point: int = 2000
    order_up_to: int = 6000
    lead_time: int = 2
    order_quantities: tuple[int, ...] = (0, 500, 1000, 1500)

    def __post_init__(self) -> None:
        _non_negative(self, "initial_inventory", "capacity", "reorder_point", "lead_time")
        _require(
            self.capacity >= self.initial_inventory,
            "capacity",
            f"capacity {self.capacity} is below initial_inventory {self.initial_inventory}",
        )
        _require(
            self.reorder_point <= self.order_up_to <= self.capacity,
            "order_up_to",
            "need reorder_point <= order_up_to <= capacity, got "
            f"{self.reorder_point} / {self.order_up_to} / {self.capacity}",
        )
        _require(
            len(self.order_quantities) == 4 and all(q >= 0 for q in self.order_quantities),
            "order_quantities",
            f"need four non-negative quantities, got {list(self.order_quantities)}",
        )


@dataclass(frozen=True)
class SupplierDisruption:
    """Markov-modulated supplier availability (``[supplier.disruption]``), in days.

    The supplier is up or down; an up spell lasts a geometric number of days with mean
    ``mean_up_days``, a down spell one with mean ``mean_down_days`` (a daily switch
    probability of 1 / mean). Down, it ships nothing: a warehouse order placed that day
    is not filled (and, like any unshipped units, not backordered); shipments already in
    transit still land. This is the up/down supplier of the disruption literature
    (Parlar & Berkin 1991; Tomlin 2006; Snyder et al. 2016's review). Day 0 is drawn from
    the stationary shares, so a spell may be under way at the start. Both 0 (the
    default): never down.
    """

    mean_up_days: float = 0.0
    mean_down_days: float = 0.0

    def __post_init__(self) -> None:
        if self.mean_up_days == 0 and self.mean_down_days == 0:
            return
        for name in ("mean_up_days", "mean_down_days"):
            value = getattr(self, name)
            _require(value >= 1.0, name, f"must be >= 1 day (or both 0: never down), got {value}")

    @property
    def enabled(self) -> bool:
        return self.mean_down_days > 0

    @property
    def down_share(self) -> float:
        """Long-run share of days the supplier is down."""
        if not self.enabled:
            return 0.0
        return self.mean_down_days / (self.mean_up_days + self.mean_down_days)


@dataclass(frozen=True)
class Supplier:
    """The supplier: ``lead_time`` days to the warehouse, at most ``capacity`` units/day.

    With probability ``1 - reliability`` a shipment is late by ``delay_days``; its ``delay``
    action also adds ``delay_days``; its ``partial`` action ships ``partial_fraction``.
    ``disruption`` makes it go down for spells (:class:`SupplierDisruption`).
    """

    lead_time: int = 7
    reliability: float = 0.98
    capacity: int = 10000
    delay_days: int = 3
    partial_fraction: float = 0.8
    disruption: SupplierDisruption = field(
        default_factory=SupplierDisruption, metadata=OMIT_DEFAULT
    )

    def __post_init__(self) -> None:
        _non_negative(self, "lead_time", "capacity", "delay_days")
        _require(
            0.0 <= self.reliability <= 1.0,
            "reliability",
            f"must be in [0, 1], got {self.reliability}",
        )
        _require(
            0.0 <= self.partial_fraction <= 1.0,
            "partial_fraction",
            f"must be in [0, 1], got {self.partial_fraction}",
        )


@dataclass(frozen=True)
class RewardWeights:
    """Weights of one role's reward: ``service_level * fill - holding_cost * holding - ...``.

    The defaults are the seed system's store reward. ``ordering_cost`` is 0 in the seed.
    """

    service_level: float = 10.0
    holding_cost: float = 0.1
    stockout: float = 5.0
    excess: float = 0.05
    ordering_cost: float = 0.0


def _default_stores() -> tuple[Store, ...]:
    return (
        Store("store_1", 1.2, 700, 2000, 300, 800),
        Store("store_2", 1.0, 600, 1500, 250, 700),
    )


@dataclass(frozen=True)
class Scenario:
    """A whole supply chain and its episode: what the twin simulates and how it is scored.

    ``forecast_smoothing`` is the exponential smoothing factor of the stores' demand
    forecast (and of their recent service level); ``warmup_days`` are excluded from KPIs.
    ``sku`` is the one product of a single-SKU scenario; ``skus``, when not empty, lists
    several and replaces it (:attr:`products` is whichever applies).
    """

    name: str = "default"
    description: str = ""
    episode_days: int = 90
    warmup_days: int = 7
    forecast_smoothing: float = 0.2
    sku: Sku = field(default_factory=Sku)
    costs: Costs = field(default_factory=Costs)
    demand: Demand = field(default_factory=Demand)
    stores: tuple[Store, ...] = field(default_factory=_default_stores)
    warehouse: Warehouse = field(default_factory=Warehouse)
    supplier: Supplier = field(default_factory=Supplier)
    store_reward: RewardWeights = field(default_factory=RewardWeights)
    warehouse_reward: RewardWeights = field(default_factory=RewardWeights)
    supplier_reward: RewardWeights = field(
        default_factory=lambda: RewardWeights(10.0, 0.0, 0.0, 0.0, 0.0)
    )
    skus: tuple[Sku, ...] = field(default=(), metadata=OMIT_DEFAULT)

    def __post_init__(self) -> None:
        _require(self.episode_days >= 1, "episode_days", f"must be >= 1, got {self.episode_days}")
        _require(
            0 <= self.warmup_days < self.episode_days,
            "warmup_days",
            f"must be in [0, episode_days), got {self.warmup_days}",
        )
        _require(
            0 < self.forecast_smoothing <= 1,
            "forecast_smoothing",
            f"must be in (0, 1], got {self.forecast_smoothing}",
        )
        _require(len(self.stores) >= 1, "stores", "need at least one store")
        names = [s.name for s in self.stores]
        _require(len(set(names)) == len(names), "stores", f"store names repeat: {names}")
        skus = [k.name for k in self.products]
        _require(len(set(skus)) == len(skus), "skus", f"SKU names repeat: {skus}")
        for i, store in enumerate(self.stores):
            _fits(self, f"stores[{i}]", store.capacity, store.initial_inventory, store.order_up_to)
        wh = self.warehouse
        _fits(self, "warehouse", wh.capacity, wh.initial_inventory, wh.order_up_to)

    # Cached (computed once per instance; fields never change): hot paths read them.
    @functools.cached_property
    def products(self) -> tuple[Sku, ...]:
        """The SKUs sold: ``skus`` when given, else the single ``sku``."""
        return self.skus or (self.sku,)

    @functools.cached_property
    def n_stores(self) -> int:
        return len(self.stores)

    @functools.cached_property
    def n_skus(self) -> int:
        return len(self.products)

    @functools.cached_property
    def n_slots(self) -> int:
        """Store x SKU pairs: one slot of the shared store policy each."""
        return self.n_stores * self.n_skus

    def per_sku(self, value: float) -> tuple[int, ...]:
        """A quantity written for demand_scale 1, for each SKU: ``round(value x scale)``."""
        return tuple(round(value * sku.demand_scale) for sku in self.products)

    def per_slot(self, values: list[float] | tuple[float, ...]) -> tuple[int, ...]:
        """One value per store, scaled to each of its SKUs (slot order ``s * K + k``)."""
        return tuple(q for value in values for q in self.per_sku(value))

    def slot_names(self) -> list[str]:
        """Agent ids of the slots: ``store_i`` with one SKU, ``store_i_sku_k`` with several.

        ``i`` and ``k`` count from 1 in the order of ``stores`` and ``skus``.
        """
        if self.n_skus == 1:
            return [f"store_{i + 1}" for i in range(self.n_stores)]
        return [
            f"store_{i + 1}_sku_{k + 1}" for i in range(self.n_stores) for k in range(self.n_skus)
        ]

    def to_dict(self) -> dict[str, Any]:
        """Plain values (TOML/JSON-ready) that :func:`scenario_from_dict` turns back."""
        plain = _to_plain(self)
        if self.skus:  # ``skus`` replaces ``sku``; a file may not give both
            plain.pop("sku")
        return plain


def _fits(scenario: Scenario, key: str, capacity: int, initial: int, order_up_to: int) -> None:
    """The SKUs' scaled initial stock and order-up-to levels, summed, fit the shared capacity.

    With one SKU of demand_scale 1 these are the node's own checks, already made.
    """
    for name, value in (("initial_inventory", initial), ("order_up_to", order_up_to)):
        total = sum(scenario.per_sku(value))
        _require(
            total <= capacity,
            f"{key}.{name}",
            f"{name} {value} scaled to the SKUs sums to {total}, above the capacity "
            f"{capacity} they share",
        )


def _omitted(f: dataclasses.Field, value: Any) -> bool:
    if not f.metadata.get("omit_default"):
        return False
    has_factory = f.default_factory is not dataclasses.MISSING
    return value == (f.default_factory() if has_factory else f.default)


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {
            f.name: _to_plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not _omitted(f, getattr(value, f.name))
        }
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    return value
