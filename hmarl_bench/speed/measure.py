"""Measurement rows, the race of a callable against a reference, and scaled chains."""

from __future__ import annotations

import dataclasses
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hmarl_bench.config import Scenario, Sku, Store, load_scenario
from hmarl_bench.twin import DigitalTwin

__all__ = [
    "TARGETS",
    "TARGET_TRAIN_RATIO",
    "TARGET_TWIN_COPIES",
    "Measurement",
    "Stepper",
    "chain_scenario",
    "load_average",
    "scenario_with_stores",
    "state_bytes",
]

#: Targets on a 2-core machine: (section, name) -> minimum rate in the row's unit.
#: ``twin`` rates are store-SKU slot-steps/s (store-steps/s with one SKU), at B = 1024;
#: ``tuning``: candidate-episodes/s of a whole search on two processes.
TARGETS = {
    ("env", "HMARLEnvironment"): 20_000.0,
    ("twin", "rule"): 2_000_000.0,
    ("tuning", "search"): 10_000.0,
}
TARGET_TWIN_COPIES = 1024
TARGET_TRAIN_RATIO = 0.9


def load_average() -> float:
    """The machine's 1-minute load average (NaN where the OS has none), printed beside
    timings so a reader sees how idle the machine was."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan


#: A step callable returns the seconds of its work not to time (a reset), usually 0.
Stepper = Callable[[], float]


@dataclass
class Measurement:
    """One row of the CSV: a rate of ours beside the reference measured in the same run."""

    section: str
    name: str
    copies: int
    stores: int
    per_call: int  # units of ``unit`` per call (agents, slots, store-SKU steps)
    calls: int
    seconds: float
    rate: float  # units per second, best window
    rate_median: float
    unit: str
    reference: str = ""
    reference_rate: float = math.nan
    batched_reference_rate: float = math.nan  # CartPole's numpy-batched vector env
    bytes_per_copy: float = math.nan
    target: float = math.nan  # the minimum rate; for ``train`` the minimum ratio
    skus: int = 1
    scenario: str = ""
    workers: int = 1  # processes (the tuning section)

    @property
    def ratio(self) -> float:
        return self.rate / self.reference_rate

    @property
    def us_per_call(self) -> float:
        return 1e6 * self.per_call / self.rate

    @property
    def passed(self) -> bool | None:
        if math.isnan(self.target):
            return None
        return (self.ratio if self.section == "train" else self.rate) >= self.target

    def row(self) -> dict[str, object]:
        row = dataclasses.asdict(self)
        row.update(ratio=self.ratio, us_per_call=self.us_per_call, passed=self.passed)
        row["ns_per_unit"] = 1e9 / self.rate
        return row


def _race(steppers: Sequence[Stepper], seconds: float, windows: int = 5) -> list[list[float]]:
    """Calls/s of each stepper in ``windows`` alternating windows of ``seconds/windows`` each."""
    rates: list[list[float]] = [[] for _ in steppers]
    budget = seconds / windows
    for _ in range(windows):
        for i, stepper in enumerate(steppers):
            calls, excluded, start = 0, 0.0, time.perf_counter()
            while True:
                excluded += stepper()
                calls += 1
                elapsed = time.perf_counter() - start
                if elapsed >= budget + excluded:
                    break
            rates[i].append(calls / (elapsed - excluded))
    return rates


def _cartpole(n_envs: int, mode: str = "sync") -> Stepper:
    """CartPole-v1 with ``n_envs`` envs stepping with random actions (auto-resets included)."""
    import gymnasium

    env = gymnasium.make_vec("CartPole-v1", num_envs=n_envs, vectorization_mode=mode)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 2, size=(64, n_envs))
    counter = iter(range(1 << 62))

    def step() -> float:
        env.step(actions[next(counter) % 64])
        return 0.0

    return step


def _stats(rates: list[float], per_call: int) -> dict[str, float]:
    return {"rate": per_call * max(rates), "rate_median": per_call * statistics.median(rates)}


def scenario_with_stores(n_stores: int, base: Scenario | str = "default") -> Scenario:
    """``base`` with ``n_stores`` stores; the warehouse and supplier scale with the stores."""
    sc = load_scenario(base)
    stores = tuple(
        Store(f"store_{i + 1}", (1.2, 1.0, 1.5)[i % 3], 600, 1500, 250, 700)
        for i in range(n_stores)
    )
    k = max(n_stores / 2.0, 1.0)
    wh = sc.warehouse
    warehouse = dataclasses.replace(
        wh,
        initial_inventory=int(wh.initial_inventory * k),
        capacity=int(wh.capacity * k),
        reorder_point=int(wh.reorder_point * k),
        order_up_to=int(wh.order_up_to * k),
        order_quantities=tuple(int(q * k) for q in wh.order_quantities),
    )
    supplier = dataclasses.replace(sc.supplier, capacity=int(sc.supplier.capacity * k))
    return dataclasses.replace(
        sc, name=f"{sc.name}_{n_stores}", stores=stores, warehouse=warehouse, supplier=supplier
    )


def chain_scenario(n_stores: int, n_skus: int = 1, base: Scenario | str = "default") -> Scenario:
    """:func:`scenario_with_stores` selling ``n_skus`` SKUs of equal demand shares.

    Each SKU has ``demand_scale`` 1/K, so the chain's total demand and its stock quantities
    are those of the single-SKU chain, split over K slots per store (capacities shared).
    """
    sc = scenario_with_stores(n_stores, base)
    if n_skus == 1:
        return sc
    skus = tuple(Sku(f"sku_{k + 1}", demand_scale=1.0 / n_skus) for k in range(n_skus))
    return dataclasses.replace(sc, name=f"{sc.name}x{n_skus}", skus=skus)


def state_bytes(twin: DigitalTwin) -> float:
    """Bytes of the twin's state arrays (with the episode's pre-drawn demand) per copy."""
    state = twin.state
    arrays = [v for v in vars(state).values() if isinstance(v, np.ndarray)]
    return sum(a.nbytes for a in arrays) / twin.batch_size
