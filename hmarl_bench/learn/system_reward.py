"""The chain's system-level reward: every agent's reconciliation reward, summed.

A module of its own, light to import (numpy and the reconciliation), so that the harness's
generalization rows (:mod:`hmarl_bench.harness.transfer`) score any learner's controller
with it without importing the SB3 training code; :mod:`hmarl_bench.learn.hierarchy`
re-exports it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hmarl_bench.config import Scenario
from hmarl_bench.reconciliation import ReconciliationReport, reward

__all__ = ["system_reward"]


def system_reward(reports: Sequence[ReconciliationReport], scenario: Scenario) -> np.ndarray:
    """The system-level reward per copy (B,): every agent's reconciliation reward with the
    scenario's weights (each store's, the warehouse's and the supplier's) summed over the
    agents and over days ``warmup_days ..`` of the episode."""
    total = 0.0
    for r in reports:
        if r.day < scenario.warmup_days:
            continue
        total = total + (
            reward(r.stores, scenario.store_reward).sum(axis=1)
            + reward(r.warehouse, scenario.warehouse_reward)
            + reward(r.supplier, scenario.supplier_reward)
        )
    return np.asarray(total, dtype=float)
