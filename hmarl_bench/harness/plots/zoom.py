"""The headline, zoomed: the strongest policies' paired differences to the reference.

The headline effects are small (a learner 0.4-5% above or below the reference), while a
figure of every policy spans the random policy's cost too, so they sit on its zero line.
This figure keeps only the policies whose mean cost is within :data:`ZOOM_PCT` percent of
the reference's in some scenario of the figure and sets each panel's x range to their
95% CIs, so every CI is wider than its marker. A policy of the figure that is further off
in one scenario sits on that panel's frame with an arrow and its value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from hmarl_bench.harness.plots.costs import (
    _difference_point,
    caption,
    panel_height,
    policy_rows,
    references,
)
from hmarl_bench.harness.plots.style import (
    PolicyStyle,
    facets,
    grid_columns,
    label_outer,
    policy_order,
    scenario_title,
)

__all__ = ["ZOOM_PCT", "differences_pct", "strongest", "zoom_figure"]

#: A policy is shown when its mean cost is within this many % of the reference's.
ZOOM_PCT = 10.0
_COLUMNS = ["diff_to_reference_mean", "diff_to_reference_ci_low", "diff_to_reference_ci_high"]


def differences_pct(group: pd.DataFrame) -> pd.DataFrame | None:
    """One scenario's paired differences to its reference (``mean``, ``low``, ``high``) in
    % of the reference's mean cost, indexed by policy; ``None`` without a reference."""
    reference = group["best_baseline"].iloc[0]
    if not isinstance(reference, str) or _COLUMNS[0] not in group:
        return None
    frame = group.set_index("policy")
    pct = 100 * frame[_COLUMNS] / float(frame.loc[reference, "total_cost_mean"])
    pct.columns = ["mean", "low", "high"]
    pct.loc[reference] = 0.0  # the reference against itself: exactly 0, no interval
    return pct


def strongest(headline: pd.DataFrame, within: float = ZOOM_PCT) -> list[str]:
    """The policies within ``within`` % of the reference in any scenario, in figure order
    (the reference included, the clairvoyant bound left out: it is a bound, not a rival)."""
    keep: set[str] = set()
    for _, group in headline.groupby("scenario", sort=False):
        pct = differences_pct(group)
        if pct is not None:
            keep |= set(pct.index[pct["mean"].abs() <= within])
    kinds = dict(zip(headline["policy"], headline["kind"], strict=True))
    return [p for p in policy_order(headline) if p in keep and kinds[p] != "clairvoyant"]


def zoom_figure(
    headline: pd.DataFrame, styles: dict[str, PolicyStyle], width: float
) -> plt.Figure | None:
    """The zoomed paired-difference figure, or ``None`` when no scenario has a reference."""
    order = strongest(headline)
    if not order:
        return None
    scenarios = list(headline["scenario"].unique())
    fig, axes = facets(len(scenarios), width, panel_height(len(order), width) + 0.1,
                       grid_columns(width), sharey=True)  # fmt: skip
    refs = references(headline)
    for ax, scenario in zip(axes, scenarios, strict=True):
        policy_rows(ax, order, refs[scenario], ax.get_subplotspec().is_first_col())
        ax.axvline(0, color="0.2", lw=0.8, zorder=1)
        ax.set_title(scenario_title(scenario))
        pct = differences_pct(headline[headline["scenario"] == scenario])
        if pct is None:
            continue
        rows = pct.loc[[p for p in order if p in pct.index]]
        near = rows[rows["mean"].abs() <= ZOOM_PCT]
        values = np.concatenate([near[c].to_numpy(float) for c in ("mean", "low", "high")])
        values = values[np.isfinite(values)]
        low, high = min(values.min(), -1.0), max(values.max(), 1.0)  # at least +-1%
        span = high - low
        limits = (low - 0.1 * span, high + 0.1 * span)
        for y, name in enumerate(order):
            if name in rows.index and np.isfinite(rows.loc[name, "mean"]):
                is_reference = name == refs[scenario]
                _difference_point(ax, y, rows.loc[name], styles[name], limits, is_reference)
        ax.set_xlim(*limits)
    label_outer(axes, "cost − reference [%]")
    caption(
        fig,
        f"Zoom on the policies within {ZOOM_PCT:.0f}% of the reference in some scenario: "
        "paired difference of total cost, in % of the reference's mean, with 95% CIs; filled "
        "marker at 0: the panel's reference. Left of 0: cheaper; arrows: off the range.",
    )
    return fig
