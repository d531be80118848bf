"""(f) The torch twin that HDPO trains through, beside the numpy twin: copy-days per second.

A copy-day is one copy of the chain simulated for one day. The torch rows run whole
episodes of an (untrained) HDPO policy in the continuous torch twin
(:mod:`hmarl_bench.twin.torch_day`): forward only, and forward plus the backward pass of
the episode's cost (one HDPO step without the optimizer). The reference is the numpy
twin (:class:`~hmarl_bench.twin.DigitalTwin`) stepping the same number of copies with
fixed orders, reports included, measured in alternating windows of the same run.
"""

from __future__ import annotations

import time

import numpy as np

from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.reconciliation import reconcile
from hmarl_bench.speed.measure import Measurement, Stepper, _race, _stats
from hmarl_bench.twin import DigitalTwin

__all__ = ["bench_torch_twin"]


def _torch_stepper(scenario: Scenario, copies: int, backward: bool) -> Stepper:
    """One whole episode per call; drawing its exogenous paths is not timed."""
    import torch

    from hmarl_bench.learn.hdpo import rollout_cost
    from hmarl_bench.learn.hdpo_policy import HDPOPolicy
    from hmarl_bench.twin.torch_day import TorchTwin

    torch.set_num_threads(1)
    policy = HDPOPolicy(scenario, (64, 64), memory_days=7, review_days=2)
    twin = TorchTwin(scenario, integer=False, surrogate_scale=30.0)
    sampler = DigitalTwin(scenario, batch_size=copies)

    def step() -> float:
        start = time.perf_counter()
        twin.reset_exogenous(sampler.draw_exogenous(list(range(1_000_000, 1_000_000 + copies))))
        excluded = time.perf_counter() - start
        if backward:
            policy.zero_grad()
            rollout_cost(policy, twin).mean().backward()
        else:
            with torch.no_grad():
                rollout_cost(policy, twin)
        return excluded

    return step


def _numpy_stepper(scenario: Scenario, copies: int) -> Stepper:
    """One whole episode per call of the numpy twin with fixed orders; resets not timed."""
    twin = DigitalTwin(scenario, batch_size=copies)
    store = np.tile(np.rint(twin.mean_demand[0]).astype(np.int64), (copies, 1))
    warehouse = np.full((copies, scenario.n_skus), 500, dtype=np.int64)
    supplier = np.zeros(copies, dtype=np.int64)

    def step() -> float:
        start = time.perf_counter()
        twin.reset(0)
        excluded = time.perf_counter() - start
        while not twin.done:
            reconcile(twin.step(store, warehouse, supplier), scenario)
        return excluded

    return step


def bench_torch_twin(
    scenario: Scenario | str = "default", copies: int = 128, seconds: float = 3.0
) -> list[Measurement]:
    """Copy-days/s of the torch twin (forward; forward + backward) against the numpy twin."""
    sc = load_scenario(scenario)
    per_call = copies * sc.episode_days
    steppers = [
        _torch_stepper(sc, copies, backward=True),
        _torch_stepper(sc, copies, backward=False),
        _numpy_stepper(sc, copies),
    ]
    rates = _race(steppers, 3 * seconds, windows=3)
    reference = per_call * max(rates[2])
    names = ("torch forward+backward (HDPO step)", "torch forward, no grad")
    return [
        Measurement(
            "torch",
            name,
            copies,
            sc.n_stores,
            per_call,
            0,
            seconds,
            **_stats(rate, per_call),
            unit="copy-days/s",
            reference="numpy twin, fixed orders",
            reference_rate=reference,
            skus=sc.n_skus,
            scenario=sc.name,
        )
        for name, rate in zip(names, rates[:2], strict=True)
    ]
