"""The aggregate figure: every policy over all of a benchmark's scenarios at once.

Left: the interquartile mean of the normalized cost (a run's cost / the reference's on the
same episodes; 1 = the reference, lower is better) with its stratified-bootstrap 95% CI,
one row per policy in :func:`~hmarl_bench.harness.plots.style.policy_order`. Right: the
performance profile, the fraction of runs with normalized cost <= tau, with pointwise 95%
bands; a curve further up and left is better. Numbers from
:func:`hmarl_bench.harness.aggregate.aggregate` (docs/statistics.md).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hmarl_bench.harness.plots.costs import caption
from hmarl_bench.harness.plots.style import (
    TWO_COLUMN,
    PolicyStyle,
    error_bar,
    facets,
    focus_range,
    policy_order,
)

__all__ = ["aggregate_figure"]

ROW_HEIGHT = 0.16  # inches per policy row


def aggregate_figure(
    table: pd.DataFrame,
    profile: pd.DataFrame,
    styles: dict[str, PolicyStyle],
    width: float = TWO_COLUMN,
) -> plt.Figure:
    """IQM of the normalized cost [95% CI] per policy, and the performance profiles.

    ``table`` / ``profile``: :class:`~hmarl_bench.harness.aggregate.Aggregate`'s frames;
    ``styles``: :func:`~hmarl_bench.harness.plots.style.policy_styles` of the headline.
    """
    order = [p for p in policy_order(table) if p in styles]
    height = max(ROW_HEIGHT * len(order) + 0.6, 1.8)
    fig, (left, right) = facets(2, width, height, 2)
    rows = table.set_index("policy")
    for y, name in enumerate(order):
        row, style = rows.loc[name], styles[name]
        err = error_bar(row["iqm"], row["iqm_ci_low"], row["iqm_ci_high"])
        left.errorbar(row["iqm"], y, xerr=err, fmt="none", ecolor=style.color, elinewidth=1.4,
                      capsize=2)  # fmt: skip
        left.plot(row["iqm"], y, marker=style.marker, color=style.color, ms=4.5, mec="0.3",
                  mew=0.5, ls="none")  # fmt: skip
    left.axvline(1.0, color="0.4", lw=0.8, ls=":")
    left.set_yticks(np.arange(len(order)))
    left.set_yticklabels(order)
    left.set_ylim(len(order) - 0.5, -0.5)
    left.grid(axis="y", visible=False)
    left.set_xlim(*focus_range(list(zip(table["iqm_ci_low"], table["iqm_ci_high"], strict=True))))
    left.set_xlabel("IQM of normalized cost (1 = reference)")
    for name in order:
        curve, style = profile[profile["policy"] == name], styles[name]
        right.plot(curve["tau"], curve["fraction"], color=style.color, ls=style.linestyle,
                   lw=1.1, label=name)  # fmt: skip
        right.fill_between(curve["tau"], curve["ci_low"], curve["ci_high"], color=style.color,
                           alpha=0.15, lw=0)  # fmt: skip
    right.axvline(1.0, color="0.4", lw=0.8, ls=":")
    right.set_ylim(-0.02, 1.02)
    right.set_xlabel(r"normalized cost $\tau$")
    right.set_ylabel(r"fraction of runs $\leq \tau$")
    n = int(table["n_scenarios"].max()) if len(table) else 0
    caption(
        fig,
        f"Over {n} scenarios: normalized cost = a run's mean total cost / the reference's on "
        "the same episodes (lower is better). Left: IQM, 95% stratified bootstrap CI. "
        "Right: performance profiles with pointwise 95% bands.",
    )
    return fig
