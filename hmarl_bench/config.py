"""Scenario configuration: frozen, validated dataclasses and the TOML loader.

A scenario is plain values in ``experiments/scenarios/<name>.toml``. :func:`load_scenario`
turns it into a frozen :class:`Scenario`; every field is type-checked and every value is
validated on construction, and any problem raises one :class:`ScenarioError` that names the
file and the dotted key (``stores[1].capacity``) that is wrong.

Units: quantities are whole units of the SKU; costs and prices are currency units; holding
cost is currency per unit per day; lead times are days.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hmarl_bench._toml import tomllib

__all__ = [
    "Costs",
    "Demand",
    "RewardWeights",
    "Scenario",
    "ScenarioError",
    "Sku",
    "Spike",
    "Store",
    "Supplier",
    "Warehouse",
    "list_scenarios",
    "load_scenario",
    "scenario_from_dict",
    "SCENARIO_DIR",
]

#: Where the named scenarios live (``experiments/scenarios`` at the project root).
SCENARIO_DIR = Path(__file__).resolve().parent.parent / "experiments" / "scenarios"

DEMAND_DISTRIBUTIONS = ("normal", "poisson", "negative_binomial")


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
    """The product. ``unit_cost`` and ``price`` are currency per unit (reported, not in cost)."""

    name: str = "sku_1"
    unit_cost: float = 12.50
    price: float = 24.99

    def __post_init__(self) -> None:
        _non_negative(self, "unit_cost", "price")


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


@dataclass(frozen=True)
class Demand:
    """Customer demand at each store (units/day) before the store's multiplier.

    The mean on day t is ``base_mean * (1 + seasonality_amplitude * sin(2 pi t / period))``
    times any active spike; ``std`` scales with the mean (constant coefficient of variation).
    ``distribution``: ``normal`` (rounded and clipped at 0), ``poisson`` (std ignored) or
    ``negative_binomial`` (needs std**2 > mean: over-dispersed).
    """

    distribution: str = "normal"
    base_mean: float = 50.0
    std: float = 15.0
    seasonality_amplitude: float = 0.3
    seasonality_period: int = 30
    spikes: tuple[Spike, ...] = ()

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
class Supplier:
    """The supplier: ``lead_time`` days to the warehouse, at most ``capacity`` units/day.

    With probability ``1 - reliability`` a shipment is late by ``delay_days``; its ``delay``
    action also adds ``delay_days``; its ``partial`` action ships ``partial_fraction``.
    """

    lead_time: int = 7
    reliability: float = 0.98
    capacity: int = 10000
    delay_days: int = 3
    partial_fraction: float = 0.8

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

    @property
    def n_stores(self) -> int:
        return len(self.stores)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (TOML/JSON-ready) that :func:`scenario_from_dict` turns back."""
        return _to_plain(self)


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- loading


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and build nested dataclasses."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ScenarioError(key, f"expected a table, got {type(value).__name__}")
        return _build(tp, value, key)
    if origin is tuple:
        item_tp = typing.get_args(tp)[0]
        if not isinstance(value, list | tuple):
            raise ScenarioError(key, f"expected a list, got {type(value).__name__}")
        return tuple(_convert(item_tp, v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unsupported annotation {tp}")  # pragma: no cover
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(key, f"expected a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            raise ScenarioError(key, f"must be finite, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(
                key, f"expected a whole number, got {type(value).__name__} {value!r}"
            )
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ScenarioError(key, f"expected a string, got {type(value).__name__}")
        return value
    raise TypeError(f"unsupported annotation {tp}")  # pragma: no cover


def _build(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            full = f"{prefix}.{key}" if prefix else key
            raise ScenarioError(
                full, f"unknown key for {_type_name(cls)}; known keys: {sorted(known)}"
            )
    kwargs = {}
    for name, value in data.items():
        full = f"{prefix}.{name}" if prefix else name
        kwargs[name] = _convert(hints[name], value, full)
    try:
        return cls(**kwargs)
    except ScenarioError as err:
        full = f"{prefix}.{err.key}" if prefix else err.key
        raise ScenarioError(full, err.message) from None
    except TypeError as err:  # a required field is missing
        raise ScenarioError(prefix, str(err)) from None


def scenario_from_dict(data: dict[str, Any], source: str | None = None) -> Scenario:
    """Build a validated :class:`Scenario` from plain values; errors name ``source``."""
    try:
        return _build(Scenario, data)
    except ScenarioError as err:
        raise ScenarioError(err.key, err.message, source) from None


def list_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``experiments/scenarios``."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(name_or_path: str | Path | Scenario = "default") -> Scenario:
    """Load a scenario by name (``default``) or by path to a ``.toml`` file.

    Raises :class:`ScenarioError` naming the file and key for any invalid content, a missing
    file (listing the known names) or malformed TOML.
    """
    if isinstance(name_or_path, Scenario):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith(".toml") or path.exists()):
        path = SCENARIO_DIR / f"{text}.toml"
        if not path.is_file():
            raise ScenarioError(
                "",
                f"unknown scenario {text!r}; choose one of {list_scenarios()} "
                "or give a path to a .toml file",
                str(path),
            )
    if not path.is_file():
        raise ScenarioError(
            "", f"scenario file not found; the named scenarios are {list_scenarios()}", str(path)
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError("", f"malformed TOML: {err}", str(path)) from None
    data.setdefault("name", path.stem)
    return scenario_from_dict(data, str(path))
