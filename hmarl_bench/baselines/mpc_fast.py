"""A faster rolling-horizon MILP: each solve stops at a looser gap.

:class:`FastRollingHorizonMILP` (``mpc_fast_free`` / ``tuned_mpc_fast_free``) is
:class:`~hmarl_bench.baselines.mpc.RollingHorizonMILP` stopping each solve at a relative
gap of :data:`FAST_GAP` (1e-2) instead of 1e-3. On larger chains HiGHS finds a plan within
1% quickly and spends most of an exact solve proving the last fraction of a percent, for
a plan whose first day only is placed (the rest is planned again the next morning).

A second, optional knob, ``binary_days``, keeps the order indicators (the fixed ordering
cost's binaries) binary on the first days of each plan only and relaxes them to [0, 1]
after (:attr:`~hmarl_bench.baselines.chain_milp.ChainProblem.binary_days`): faster still,
but the later days' orders then ignore most of their fixed cost, which showed in the
episodes' cost; it is off (None) by default.

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

#: Charged days of each plan whose order indicators stay binary (None: every day).
FAST_BINARY_DAYS: int | None = None
#: Relative MIP gap at which a solve stops.
FAST_GAP = 1e-2


class FastRollingHorizonMILP(RollingHorizonMILP):
    """The rolling-horizon MILP with a looser ``mip_rel_gap`` and, optionally, binaries on
    the first ``binary_days`` charged days only (module docstring); the other arguments as
    the exact rule's."""

    def __init__(
        self,
        horizon: int = DEFAULT_HORIZON,
        store_safety: float | np.ndarray = 1.0,
        warehouse_safety: float | np.ndarray = 0.0,
        mip_rel_gap: float = FAST_GAP,
        time_limit: float = 60.0,
        binary_days: int | None = FAST_BINARY_DAYS,
    ) -> None:
        if binary_days is not None and binary_days < 1:
            raise ValueError(f"binary_days must be >= 1 day, got {binary_days}")
        super().__init__(horizon, store_safety, warehouse_safety, mip_rel_gap, time_limit)
        self.binary_days = None if binary_days is None else int(binary_days)

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
