"""Figures of cost by policy: total cost, paired differences, every episode, the breakdown.

Each panel is one scenario and lists the policies in one order, the same in every panel
and every figure (:func:`~hmarl_bench.harness.plots.style.policy_order`), top to bottom;
the reference (the best rule, chosen on the tuning seeds) has its name in bold.
"""

from __future__ import annotations

import textwrap
import zlib
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hmarl_bench.harness.plots.style import (
    COST_UNIT,
    PolicyStyle,
    error_bar,
    facets,
    grid_columns,
    label_outer,
    legend_columns,
    narrow,
    palette,
    policy_order,
    scenario_title,
    short_label,
    thousands,
)

__all__ = [
    "breakdown_legend_rows",
    "caption",
    "cost_breakdown_figure",
    "paired_difference_figure",
    "per_seed_figure",
    "policy_rows",
    "references",
    "total_cost_figure",
]

ROW_HEIGHT = 0.15  # inches per policy row (two-column width)
NARROW_ROW_HEIGHT = 0.13  # and at one-column width (7 pt labels need 0.1 in)
#: Marker of a mean beside its CI: small and hollow, under the CI's line and caps.
MEAN_MARKER = {"ms": 3.6, "mfc": "white", "mew": 0.9, "zorder": 3}
CI_LINE = {"fmt": "none", "elinewidth": 1.1, "capsize": 2.2, "capthick": 1.1, "zorder": 4}


def caption(fig: plt.Figure, text: str) -> None:
    """The figure's title, wrapped to its width."""
    width = fig.get_size_inches()[0]
    fig.suptitle(textwrap.fill(text, width=int(width * 15)))


def references(headline: pd.DataFrame) -> dict[str, str | None]:
    """Scenario -> its reference (best rule on the tuning seeds)."""
    first = headline.groupby("scenario", sort=False)["best_baseline"].first()
    return {s: (v if isinstance(v, str) else None) for s, v in first.items()}


def policy_rows(ax: plt.Axes, order: Sequence[str], reference: str | None, labels: bool) -> None:
    """y = one row per policy of ``order``, top to bottom; the reference in bold."""
    ax.set_yticks(np.arange(len(order)))
    ax.set_ylim(len(order) - 0.5, -0.5)
    if labels:
        slim = narrow(ax.figure.get_size_inches()[0])
        ax.set_yticklabels([short_label(name, slim) for name in order])
        for tick, name in zip(ax.get_yticklabels(), order, strict=True):
            if name == reference:
                tick.set_fontweight("bold")
    else:
        ax.tick_params(axis="y", labelleft=False)
    ax.grid(axis="y", visible=False)


def row_height(width: float) -> float:
    return NARROW_ROW_HEIGHT if narrow(width) else ROW_HEIGHT


def panel_height(n_rows: int, width: float) -> float:
    """Height [in] of a panel listing ``n_rows`` policies (title and tick labels included)."""
    return row_height(width) * n_rows + 0.6


def _panels(headline: pd.DataFrame, width: float, extra: float = 0.0, legend_rows: int = 0):
    scenarios = list(headline["scenario"].unique())
    order = policy_order(headline)
    height = panel_height(len(order), width) + extra * len(order)
    fig, axes = facets(len(scenarios), width, height, grid_columns(width), sharey=True,
                       legend_rows=legend_rows)  # fmt: skip
    return fig, axes, scenarios, order


def _first_in_row(i: int, fig: plt.Figure, axes: Sequence[plt.Axes]) -> bool:
    return axes[i].get_subplotspec().is_first_col()


def total_cost_figure(
    headline: pd.DataFrame, styles: dict[str, PolicyStyle], width: float
) -> plt.Figure:
    """Mean total cost per policy with its 95% bootstrap CI, a panel per scenario.

    The caption counts the CIs narrower than their marker (measured on the drawn figure),
    so an invisible bar is never mistaken for a missing one.
    """
    fig, axes, scenarios, order = _panels(headline, width)
    refs = references(headline)
    bars = []
    for i, (ax, scenario) in enumerate(zip(axes, scenarios, strict=True)):
        group = headline[headline["scenario"] == scenario].set_index("policy")
        policy_rows(ax, order, refs[scenario], _first_in_row(i, fig, axes))
        for y, name in enumerate(order):
            if name not in group.index:
                continue
            row, style = group.loc[name], styles[name]
            mean, low, high = row[["total_cost_mean", "total_cost_ci_low", "total_cost_ci_high"]]
            ax.errorbar(mean, y, xerr=error_bar(mean, low, high), ecolor=style.color, **CI_LINE)
            ax.plot(mean, y, marker=style.marker, mec=style.color, ls="none", **MEAN_MARKER)
            bars.append((ax, low, high))
        ax.set_title(scenario_title(scenario))
        thousands(ax)
    label_outer(axes, COST_UNIT)
    fig.canvas.draw()
    hidden = sum(_narrower_than_marker(ax, low, high, MEAN_MARKER["ms"]) for ax, low, high in bars)
    note = (
        f"{hidden} of {len(bars)} CIs are narrower than their marker: see the zoomed figure"
        if hidden
        else "every CI is drawn"
    )
    caption(
        fig,
        f"Mean total cost per episode (lower is better); bars: 95% bootstrap CIs, drawn over "
        f"the hollow marker ({note}). Bold: the reference, chosen on the tuning seeds.",
    )
    return fig


def _narrower_than_marker(ax: plt.Axes, low: float, high: float, size_pt: float) -> bool:
    if not (np.isfinite(low) and np.isfinite(high)):
        return True
    x0, x1 = ax.transData.transform([[low, 0], [high, 0]])[:, 0]
    return abs(x1 - x0) < size_pt * ax.figure.dpi / 72


def paired_difference_figure(
    headline: pd.DataFrame, styles: dict[str, PolicyStyle], width: float
) -> plt.Figure:
    """Each policy's paired difference of total cost to the reference, in % of the
    reference's mean cost, with its 95% two-level bootstrap CI.

    The x range shows the learners, the references and the bound; policies far outside
    it sit on the frame with an arrow and their value.
    """
    fig, axes, scenarios, order = _panels(headline, width)
    refs = references(headline)
    one_reference = len(set(refs.values())) == 1
    for i, (ax, scenario) in enumerate(zip(axes, scenarios, strict=True)):
        group = headline[headline["scenario"] == scenario].set_index("policy")
        policy_rows(ax, order, refs[scenario], _first_in_row(i, fig, axes))
        reference = refs[scenario]
        ax.axvline(0, color="0.2", lw=0.8)
        title = scenario_title(scenario)
        ax.set_title(title if one_reference else f"{title}\nref.: {reference or '–'}")
        if reference is None or "diff_to_reference_mean" not in group:
            continue
        base = float(group.loc[reference, "total_cost_mean"])
        pct = 100 * group[["diff_to_reference_mean", "diff_to_reference_ci_low",
                           "diff_to_reference_ci_high"]] / base  # fmt: skip
        pct.columns = ["mean", "low", "high"]
        focus = [n for n in group.index if styles[n].kind in ("learner", "external", "clairvoyant")]
        focus += [reference, group["best_actions_baseline"].iloc[0]]
        rows = pct.loc[[n for n in dict.fromkeys(focus) if isinstance(n, str) and n in pct.index]]
        low = float(np.nanmin([rows["low"].min(), rows["mean"].min(), 0.0]))
        high = float(np.nanmax([rows["high"].max(), rows["mean"].max(), 0.0]))
        span = high - low or 1.0
        limits = (low - 0.12 * span, high + 0.12 * span)
        for y, name in enumerate(order):
            if name not in pct.index or not np.isfinite(pct.loc[name, "mean"]):
                continue
            _difference_point(ax, y, pct.loc[name], styles[name], limits, name == reference)
        ax.set_xlim(*limits)
    label_outer(axes, "cost − reference [%]")
    which = (
        f"the reference ({next(iter(refs.values()))}, bold)"
        if one_reference
        else ("the reference (bold)")
    )
    caption(
        fig,
        f"Total cost minus that of {which} on the same episodes, in % of the reference's "
        "mean; mean and 95% CI (bootstrap over training seeds and episodes). Left of 0: "
        "cheaper than the reference.",
    )
    return fig


def _difference_point(ax, y, row, style: PolicyStyle, limits, is_reference: bool) -> None:
    mean, low, high = row["mean"], row["low"], row["high"]
    if limits[0] <= mean <= limits[1]:
        ax.errorbar(mean, y, xerr=error_bar(mean, low, high), ecolor=style.color, **CI_LINE)
        marker = {**MEAN_MARKER, "mfc": style.color} if is_reference else MEAN_MARKER
        ax.plot(mean, y, marker=style.marker, mec=style.color, ls="none", **marker)
        return
    right = mean > limits[1]
    x = limits[1] if right else limits[0]
    ax.annotate(
        f"{mean:+.0f}%",
        xy=(x, y),
        xytext=(-3 if right else 3, 0),
        textcoords="offset points",
        ha="right" if right else "left",
        va="center",
        fontsize=6,
        color=style.color,
        arrowprops=None,
    )
    ax.plot(x, y, marker=">" if right else "<", color=style.color, ms=4, clip_on=False)


def per_seed_figure(
    per_seed: pd.DataFrame,
    headline: pd.DataFrame,
    styles: dict[str, PolicyStyle],
    width: float,
    seed: int = 0,
) -> plt.Figure:
    """Every evaluation episode's total cost (learners: every training seed), a box per
    policy; the vertical jitter is drawn from a generator seeded by ``seed`` and the
    scenario, so the figure is the same on every build."""
    fig, axes, scenarios, order = _panels(headline, width, 0.02)
    refs = references(headline)
    for i, (ax, scenario) in enumerate(zip(axes, scenarios, strict=True)):
        data = per_seed[per_seed["scenario"] == scenario]
        policy_rows(ax, order, refs[scenario], _first_in_row(i, fig, axes))
        rng = np.random.default_rng([seed, zlib.crc32(scenario.encode())])
        for y, name in enumerate(order):
            costs = data.loc[data["policy"] == name, "total_cost"].dropna().to_numpy()
            if not len(costs):
                continue
            style = styles[name]
            ax.boxplot(costs, positions=[y], orientation="horizontal", widths=0.6,
                       showfliers=False, medianprops={"color": "0.2", "lw": 0.8},
                       boxprops={"lw": 0.6}, whiskerprops={"lw": 0.6}, capprops={"lw": 0.6},
                       manage_ticks=False)  # fmt: skip
            jitter = rng.uniform(-0.22, 0.22, len(costs))
            ax.scatter(costs, y + jitter, s=4, color=style.color, alpha=0.75, lw=0,
                       marker="o", zorder=3)  # fmt: skip
        ax.set_title(scenario_title(scenario))
        thousands(ax)
    label_outer(axes, COST_UNIT)
    caption(
        fig,
        "Total cost of every evaluation episode (learners: all training seeds); boxes: "
        "quartiles, whiskers: 1.5 IQR.",
    )
    return fig


#: The breakdown's parts: (headline column, legend label, palette index).
PARTS = (
    ("store_holding_cost_mean", "store holding", 9),
    ("warehouse_holding_cost_mean", "warehouse holding", 0),
    ("lost_sales_cost_mean", "lost-sales penalty", 3),
    ("ordering_cost_mean", "ordering", 7),
)


def breakdown_legend_rows(width: float) -> int:
    return 1 if not narrow(width) else 2


def cost_breakdown_figure(
    headline: pd.DataFrame, styles: dict[str, PolicyStyle], width: float
) -> plt.Figure:
    """Mean cost per policy split into store holding, warehouse holding, lost-sales
    penalty and ordering (the clairvoyant bound: its best plan's split)."""
    fig, axes, scenarios, order = _panels(headline, width, legend_rows=breakdown_legend_rows(width))
    refs = references(headline)
    pal = palette()
    unsplit = False
    for i, (ax, scenario) in enumerate(zip(axes, scenarios, strict=True)):
        group = headline[headline["scenario"] == scenario].set_index("policy")
        group = group.reindex([n for n in order if n in group.index])
        policy_rows(ax, order, refs[scenario], _first_in_row(i, fig, axes))
        y = np.array([order.index(n) for n in group.index])
        left = np.zeros(len(group))
        split = group.get("store_holding_cost_mean", pd.Series(np.nan, group.index)).notna()
        for column, label, color in PARTS:
            values = group[column].to_numpy(float) if column in group else np.zeros(len(group))
            values = np.nan_to_num(values)
            ax.barh(y, values, left=left, color=pal[color], height=0.7, label=label, lw=0)
            left += values
        if (~split).any():  # cells stored before holding was split by node
            unsplit = True
            values = np.where(split, 0.0, np.nan_to_num(group["holding_cost_mean"].to_numpy()))
            label = "holding, not split by node (cell stored before)"
            ax.barh(y, values, left=0, color="0.85", hatch="////", edgecolor="0.4", lw=0,
                    height=0.7, label=label)  # fmt: skip
        ax.set_title(scenario_title(scenario))
        thousands(ax)
    label_outer(axes, "mean cost [currency/episode]")
    handles, labels = axes[0].get_legend_handles_labels()
    if unsplit and not any("not split" in label for label in labels):
        for ax in axes:
            more = ax.get_legend_handles_labels()
            handles, labels = handles + more[0], labels + more[1]
    unique = dict(zip(labels, handles, strict=True))
    fig.legend(unique.values(), unique.keys(), loc="outside lower center",
               ncol=legend_columns(list(unique), width), frameon=False)  # fmt: skip
    caption(fig, "Where the cost comes from: mean over the evaluation episodes.")
    return fig
