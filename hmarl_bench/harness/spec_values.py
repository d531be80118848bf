"""The benchmark config's errors and value readers, shared by :mod:`hmarl_bench.harness.spec`
and :mod:`hmarl_bench.harness.algo_spec`: each reader names the key of a bad value."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NAME", "BenchmarkError", "check_keys", "items", "number", "text", "whole"]

#: What a benchmark, policy or label name may hold.
NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class BenchmarkError(ValueError):
    """A benchmark config is invalid. ``key`` names the offending value."""

    def __init__(self, key: str, message: str, source: str | None = None) -> None:
        self.key, self.message, self.source = key, message, source
        where = f"{source}: " if source else ""
        at = f"key '{key}': " if key else ""
        super().__init__(f"{where}{at}{message}")


def check_keys(data: dict[str, Any], known: set[str], prefix: str) -> None:
    for key in data:
        if key not in known:
            raise BenchmarkError(f"{prefix}{key}", f"unknown key; known keys: {sorted(known)}")


def whole(value: Any, key: str, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BenchmarkError(key, f"expected a whole number, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise BenchmarkError(key, f"must be >= {minimum}, got {value}")
    return value


def number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BenchmarkError(key, f"expected a number, got {type(value).__name__} {value!r}")
    return float(value)


def text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise BenchmarkError(key, f"expected a non-empty string, got {value!r}")
    return value


def items(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise BenchmarkError(key, f"expected a list, got {type(value).__name__} {value!r}")
    return value
