"""A faster rolling-horizon MILP: exact fixed-cost decisions on the first days only.

:class:`FastRollingHorizonMILP` (``mpc_fast_free`` / ``tuned_mpc_fast_free``) is
:class:`~hmarl_bench.baselines.mpc.RollingHorizonMILP` with two changes, both aimed at the
MILP's cost on larger chains (its binaries grow as stores x horizon, and HiGHS's branch and
bound with them):

- the order indicators (the fixed ordering cost's binaries) are binary on the first
  :data:`FAST_BINARY_DAYS` charged days of each plan and relaxed to [0, 1] after
  (:attr:`~hmarl_bench.baselines.chain_milp.ChainProblem.binary_days`): only the first
  day's orders are placed and the later days are planned again every morning, so their
  fixed costs only need to be roughly right;
- each solve stops at a relative gap of :data:`FAST_GAP` instead of 1e-3.

Everything else (the information it sees, the safety floors, the tuning grid, the
horizon) is the exact rule's, so the two are compared on the same episodes as two rules;
the exact rule's own module and decisions are unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hmarl_bench.baselines.chain_milp import ChainProblem
from hmarl_bench.baselines.mpc import DEFAULT_HORIZON, RollingHorizonMILP
from hmarl_bench.twin import ChainView

__all__ = ["FAST_BINARY_DAYS", "FAST_GAP", "FastRollingHorizonMILP"]

#: Charged days of each plan whose order indicators stay binary.
FAST_BINARY_DAYS = 3
#: Relative MIP gap at which a solve stops.
FAST_GAP = 1e-2


class FastRollingHorizonMILP(RollingHorizonMILP):
    """The rolling-horizon MILP with binaries on the first ``binary_days`` charged days and
    a looser ``mip_rel_gap`` (module docstring); the other arguments as the exact rule's."""

    def __init__(
        self,
        horizon: int = DEFAULT_HORIZON,
        store_safety: float | np.ndarray = 1.0,
        warehouse_safety: float | np.ndarray = 0.0,
        mip_rel_gap: float = FAST_GAP,
        time_limit: float = 60.0,
        binary_days: int = FAST_BINARY_DAYS,
    ) -> None:
        if binary_days < 1:
            raise ValueError(f"binary_days must be >= 1 day, got {binary_days}")
        super().__init__(horizon, store_safety, warehouse_safety, mip_rel_gap, time_limit)
        self.binary_days = int(binary_days)

    def problem(
        self,
        view: ChainView,
        copy: int,
        n_days: int,
        store_pipeline: np.ndarray,
        warehouse_pipeline: np.ndarray,
    ) -> ChainProblem:
        exact = super().problem(view, copy, n_days, store_pipeline, warehouse_pipeline)
        return dataclasses.replace(exact, binary_days=self.binary_days)
