"""Service level against cost: fill rate [%] over total cost, a panel per scenario.

Every policy has its own colour and marker (baselines coloured by rule family, the marker
saying the variant), listed once in a legend grouped by family. The axes show the cluster
that matters (the learners, the reference, the best rule on the store actions and the
bound's cost); a policy outside it sits on the frame, marked with an arrow, so nothing
disappears and the cluster is not squeezed into a corner by the random policy.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from hmarl_bench.harness.plots.costs import caption, references
from hmarl_bench.harness.plots.style import (
    COST_UNIT,
    PolicyStyle,
    error_bar,
    facets,
    focus_range,
    grid_columns,
    label_outer,
    legend_columns,
    legend_rows,
    narrow,
    policy_order,
    scenario_title,
    short_label,
    thousands,
    variant_label,
)

__all__ = [
    "legend_entries",
    "service_legend_rows",
    "service_panel_height",
    "service_vs_cost_figure",
]


def _focus(group: pd.DataFrame, styles: dict[str, PolicyStyle]) -> list[str]:
    names = [n for n in group.index if styles[n].kind in ("learner", "external", "clairvoyant")]
    names += [group["best_baseline"].iloc[0], group["best_actions_baseline"].iloc[0]]
    return [n for n in dict.fromkeys(names) if isinstance(n, str) and n in group.index]


def _limits(group: pd.DataFrame, names: list[str]) -> tuple[tuple, tuple]:
    """x: the focus policies' cost CIs (and the bound), padded; y: the fill-rate CIs of every
    policy whose cost falls inside that x range, so no point in range is cut off."""
    rows = group.loc[names]
    x0, x1 = focus_range(
        list(zip(rows["total_cost_ci_low"], rows["total_cost_ci_high"], strict=True)), pad=0.12
    )
    shown = group[group["total_cost_mean"].between(x0, x1) & group["fill_rate_mean"].notna()]
    y_pairs = list(zip(100 * shown["fill_rate_ci_low"], 100 * shown["fill_rate_ci_high"],
                       strict=True))  # fmt: skip
    y0, y1 = focus_range(y_pairs, pad=0.15)
    return (x0, x1), (min(y0, 99.0), max(min(y1, 100.6), 100.3))


def legend_entries(
    order: list[str], styles: dict[str, PolicyStyle], headline, slim: bool = False
) -> list:
    """(handle, label) per policy: ``name (what it is)`` in the figures' order; at one-column
    width the (abbreviated) name only."""
    kinds = dict(zip(headline["policy"], headline["kind"], strict=True))
    entries = []
    for name in order:
        style = styles[name]
        if style.kind == "clairvoyant":
            handle = Line2D([], [], color=style.color, ls="--", lw=1.2)
            entries.append((handle, "bound (its cost)" if slim else "clairvoyant bound (its cost)"))
            continue
        handle = Line2D([], [], color=style.color, marker=style.marker, ls="none", ms=4.5,
                        mec=style.color, mfc="white", mew=0.9)  # fmt: skip
        what = "" if slim else f" ({variant_label(name, kinds[name])})"
        entries.append((handle, short_label(name, slim) + what))
    return entries


def service_panel_height(width: float) -> float:
    return 1.9 if narrow(width) else 2.0


def service_legend_rows(
    headline: pd.DataFrame, styles: dict[str, PolicyStyle], width: float
) -> int:
    order = policy_order(headline)
    return legend_rows(
        [label for _, label in legend_entries(order, styles, headline, narrow(width))], width
    )


def service_vs_cost_figure(
    headline: pd.DataFrame, styles: dict[str, PolicyStyle], width: float
) -> plt.Figure:
    scenarios = list(headline["scenario"].unique())
    order = policy_order(headline)
    entries = legend_entries(order, styles, headline, narrow(width))
    labels = [label for _, label in entries]
    fig, axes = facets(len(scenarios), width, service_panel_height(width), grid_columns(width),
                       legend_rows=legend_rows(labels, width))  # fmt: skip
    refs = references(headline)
    outside = 0
    for ax, scenario in zip(axes, scenarios, strict=True):
        group = headline[headline["scenario"] == scenario].set_index("policy")
        (x0, x1), (y0, y1) = _limits(group, _focus(group, styles))
        for name in order:
            if name not in group.index:
                continue
            row, style = group.loc[name], styles[name]
            if style.kind == "clairvoyant":
                ax.axvline(row["total_cost_mean"], color=style.color, ls="--", lw=1.0)
                continue
            if not np.isfinite(row["fill_rate_mean"]):
                continue
            x, y = row["total_cost_mean"], 100 * row["fill_rate_mean"]
            if x0 <= x <= x1 and y0 <= y <= y1:
                ax.errorbar(
                    x,
                    y,
                    xerr=error_bar(x, row["total_cost_ci_low"], row["total_cost_ci_high"]),
                    yerr=error_bar(row["fill_rate_mean"], row["fill_rate_ci_low"],
                                   row["fill_rate_ci_high"], 100.0),
                    marker=style.marker, color=style.color, ms=4, capsize=1.5, lw=0.8,
                    ls="none", mec="black" if name == refs[scenario] else style.color,
                    mfc=style.color if name == refs[scenario] else "white",
                    mew=0.9, zorder=4 if style.kind in ("learner", "external") else 3,
                )  # fmt: skip
            else:
                outside += 1
                _on_frame(ax, x, y, (x0, x1), (y0, y1), style)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_title(scenario_title(scenario))
        thousands(ax)
    label_outer(axes, COST_UNIT, "fill rate [%]")
    fig.legend([h for h, _ in entries], labels,
               loc="outside lower center", ncol=legend_columns(labels, width), frameon=False,
               handlelength=1.6, columnspacing=1.0)  # fmt: skip
    note = f"; {outside} point(s) outside the range sit on the frame (arrow)" if outside else ""
    caption(
        fig,
        "Fill rate against total cost, mean and 95% CIs (better: up and left); black edge: "
        f"the reference{note}.",
    )
    return fig


def _on_frame(ax, x, y, xlim, ylim, style: PolicyStyle) -> None:
    """A policy outside the range: its marker on the frame, an arrow pointing out."""
    cx, cy = float(np.clip(x, *xlim)), float(np.clip(y, *ylim))
    dx = 1 if x > xlim[1] else -1 if x < xlim[0] else 0
    dy = 1 if y > ylim[1] else -1 if y < ylim[0] else 0
    ax.plot(cx, cy, marker=style.marker, color=style.color, ms=4.5, mec="0.3", mew=0.4,
            alpha=0.8, clip_on=False, zorder=4)  # fmt: skip
    ax.annotate("", xy=(cx, cy), xytext=(-9 * dx, -9 * dy), textcoords="offset points",
                arrowprops={"arrowstyle": "->", "color": style.color, "lw": 0.8},
                annotation_clip=False)  # fmt: skip
