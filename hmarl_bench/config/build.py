"""Plain values -> a validated :class:`~hmarl_bench.config.scenario.Scenario`.

:func:`scenario_from_dict` type-checks every value against the dataclasses' annotations
(a string where a number belongs, an unknown key, a list where a table belongs) and builds
the frozen dataclasses, which validate their values; any problem raises one
:class:`~hmarl_bench.config.scenario.ScenarioError` naming the dotted key. Values left out
take the dataclasses' defaults: this is the programmatic form. Scenario *files* must be
complete or say what they extend (:mod:`hmarl_bench.config.files`).

A scenario with many stores may give them compactly instead of as ``[[stores]]``::

    [store_pattern]
    count = 100            # stores store_1 .. store_100
    profiles = [           # store i (from 0) is profiles[i % len(profiles)]
        { demand_multiplier = 1.2, initial_inventory = 700, capacity = 2000,
          reorder_point = 300, order_up_to = 800 },
        { demand_multiplier = 1.0, initial_inventory = 600, capacity = 1500,
          reorder_point = 250, order_up_to = 700 },
    ]

Each profile is a store table without a name (names are generated) and is validated as
one; the expansion is deterministic (no random draws), so a pattern is the same list of
stores on every machine and :meth:`Scenario.to_dict` writes the expanded list.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any

from hmarl_bench.config.scenario import Scenario, ScenarioError, Store

__all__ = ["StorePattern", "UnknownKeyError", "check_alternatives", "scenario_from_dict"]


class UnknownKeyError(ScenarioError):
    """A key the scenario format does not have (most often a misspelt one)."""


@dataclass(frozen=True)
class StorePattern:
    """``count`` stores cycling through ``profiles`` (store tables without names)."""

    count: int
    profiles: tuple[Store, ...]

    def stores(self) -> tuple[Store, ...]:
        return tuple(
            dataclasses.replace(self.profiles[i % len(self.profiles)], name=f"store_{i + 1}")
            for i in range(self.count)
        )


def _store_pattern(value: Any) -> StorePattern:
    key = "store_pattern"
    if not isinstance(value, dict):
        raise ScenarioError(key, f"expected a table, got {type(value).__name__}")
    unknown = set(value) - {"count", "profiles"}
    if unknown:
        raise UnknownKeyError(
            f"{key}.{sorted(unknown)[0]}", "unknown key; known keys: ['count', 'profiles']"
        )
    count = _convert(int, value.get("count"), f"{key}.count")
    if count < 1:
        raise ScenarioError(f"{key}.count", f"must be >= 1, got {count}")
    profiles = value.get("profiles")
    if not isinstance(profiles, list) or not profiles:
        raise ScenarioError(f"{key}.profiles", "expected a non-empty list of store tables")
    built = []
    for j, profile in enumerate(profiles):
        at = f"{key}.profiles[{j}]"
        if not isinstance(profile, dict):
            raise ScenarioError(at, f"expected a table, got {type(profile).__name__}")
        if "name" in profile:
            raise ScenarioError(f"{at}.name", "store names are generated (store_1, store_2, ...)")
        built.append(_build(Store, {"name": "store", **profile}, at))
    return StorePattern(count, tuple(built))


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
        if isinstance(value, tuple) and all(isinstance(v, item_tp) for v in value):
            return value  # already built (a store pattern's stores)
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
            raise UnknownKeyError(
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


def check_alternatives(data: dict[str, Any], source: str | None = None) -> None:
    """Refuse both forms of a two-form key: ``[sku]`` and ``[[skus]]``, ``[[stores]]`` and
    ``[store_pattern]``."""
    if "sku" in data and data.get("skus"):
        raise ScenarioError("skus", "give either [sku] or [[skus]], not both", source)
    if "store_pattern" in data and "stores" in data:
        raise ScenarioError("store_pattern", "give either [[stores]] or [store_pattern]", source)


def scenario_from_dict(data: dict[str, Any], source: str | None = None) -> Scenario:
    """Build a validated :class:`Scenario` from plain values; errors name ``source``.

    Accepts ``store_pattern`` in place of ``stores`` (module docstring), and ``skus`` in
    place of ``sku``.
    """
    check_alternatives(data, source)
    try:
        data = dict(data)
        if "store_pattern" in data:
            data["stores"] = _store_pattern(data.pop("store_pattern")).stores()
        return _build(Scenario, data)
    except ScenarioError as err:
        raise type(err)(err.key, err.message, source) from None
