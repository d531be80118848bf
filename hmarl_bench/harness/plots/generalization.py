"""The generalization figure: learners trained on one scenario, run on the others.

Per target scenario (a panel), each learner policy (a row): the mean total cost of the
policies trained on the training scenario and run unchanged on the target (filled, with
its 95% CI) and of the same learner trained on the target itself (hollow), and the
target's reference (the best rule, chosen on its tuning seeds) as a dashed line named in
the panel. The legend's handles are neutral (black), so they say what a mark *means*;
the colours say which learner, as in every other figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from hmarl_bench.harness.plots.costs import caption, policy_rows
from hmarl_bench.harness.plots.style import (
    COST_UNIT,
    PolicyStyle,
    error_bar,
    facets,
    grid_columns,
    label_outer,
    palette,
    scenario_title,
    thousands,
)

__all__ = ["generalization_figure"]


def generalization_figure(
    table: pd.DataFrame, styles: dict[str, PolicyStyle], width: float
) -> plt.Figure:
    """The figure of a :func:`~hmarl_bench.harness.generalization.generalization_table`."""
    targets = list(table["target_scenario"].unique())
    order = list(dict.fromkeys(table["policy"]))
    train = table["train_scenario"].iloc[0]
    fig, axes = facets(len(targets), width, 0.2 * len(order) + 0.75, grid_columns(width),
                       sharey=True, legend_rows=3 if width < 6 else 2)  # fmt: skip
    line_color = palette()[1]
    for ax, target in zip(axes, targets, strict=True):
        group = table[table["target_scenario"] == target].set_index("policy")
        policy_rows(ax, order, None, ax.get_subplotspec().is_first_col())
        for y, name in enumerate(order):
            if name not in group.index:
                continue
            row, color = group.loc[name], styles[name].color if name in styles else "0.3"
            x = row["transferred_cost"]
            err = error_bar(x, row["transferred_ci_low"], row["transferred_ci_high"])
            ax.errorbar(x, y, xerr=err, fmt="o", color=color, ms=4.5, capsize=2, lw=1.0)
            ax.plot(row["trained_here_cost"], y, ls="none", marker="o", ms=6, mfc="none",
                    mec=color, mew=1.1)  # fmt: skip
        best = group["best_baseline_cost"].dropna()
        if len(best):
            ax.axvline(best.iloc[0], color=line_color, ls="--", lw=1.1)
            ax.annotate(
                str(group["best_baseline"].iloc[0]),
                xy=(best.iloc[0], 0.0),
                xycoords=("data", "axes fraction"),
                xytext=(2, 2),
                textcoords="offset points",
                rotation=90,
                fontsize=6,
                color=line_color,
                ha="left",
                va="bottom",
            )
        ax.set_title(scenario_title(target))
        thousands(ax)
    label_outer(axes, COST_UNIT)
    handles = [
        Line2D([], [], ls="-", marker="o", color="black", ms=4.5, lw=1.0),
        Line2D([], [], ls="none", marker="o", mfc="none", mec="black", ms=6, mew=1.1),
        Line2D([], [], ls="--", color=line_color, lw=1.1),
    ]
    labels = [
        f"trained on {train}, run on the target (mean, 95% CI)",
        "trained on the target itself (mean)",
        "reference on the target: best rule on its tuning seeds (named)",
    ]
    fig.legend(handles, labels, loc="outside lower center", frameon=False,
               ncol=1 if width < 6 else 2)  # fmt: skip
    caption(fig, f"Generalization: policies trained on {train}, run unchanged on each "
                 "other scenario on the same evaluation episodes.")  # fmt: skip
    return fig
