"""The mean and 95% bootstrap confidence interval of per-episode values.

Shared by a run's tables (:mod:`hmarl_bench.run.report`) and the rounds of alternating
training (:mod:`hmarl_bench.learn.rounds`), which sits before the CLI in the flow.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mean_ci"]


def mean_ci(values: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 95% percentile-bootstrap CI (scipy) of per-episode values."""
    from scipy.stats import bootstrap

    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2 or np.ptp(values) == 0:
        return mean, mean, mean
    res = bootstrap(
        (values,),
        np.mean,
        confidence_level=0.95,
        n_resamples=2000,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return mean, float(res.confidence_interval.low), float(res.confidence_interval.high)
