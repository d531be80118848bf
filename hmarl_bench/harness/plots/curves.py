"""Learning curves: validation total cost while training, a panel per scenario and role.

The y axis is the quantity models are selected on: the chain's mean total cost on the
validation seeds [currency/episode]. A hierarchical cell trains its learners one after the
other (stores, then warehouse, round after round) and stores its curve on one cumulative
step axis; here each role gets its own panel and its own step axis (the steps *that*
learner trained, summed over rounds), so the warehouse's first, untrained evaluation is the
start of its own curve rather than a jump in the stores'. Lines are the mean over training
seeds with a 95% bootstrap band (over seeds, seeded); a triangle marks every training
seed's selected checkpoint (the lowest validation cost of its run, or of each round).
"""

from __future__ import annotations

import math
import zlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, NullFormatter

from hmarl_bench.harness.plots.costs import caption
from hmarl_bench.harness.plots.style import (
    PolicyStyle,
    chunks,
    facets,
    grid_columns,
    legend_columns,
    legend_rows,
    narrow,
    per_page,
    scenario_title,
    short_label,
    thousands,
)

__all__ = [
    "curve_pages",
    "learner_steps",
    "learning_curves_figure",
    "selected_checkpoints",
]

#: Panels by what was learning: the roles, the joint planner (stores and warehouse in one
#: policy, logged as learner ``joint``), the residual learner (factors on a rule) and HDPO
#: (the whole chain's order-up-to policy).
ROLES = ("stores", "warehouse", "joint", "supplier", "residual", "hdpo")
ROLE_NAMES = {"joint": "joint planner", "hdpo": "HDPO"}
PANEL_HEIGHT = 1.55  # inches, two-line title included
COST_LABEL = "validation total cost\n[currency/episode]"
REWARD_LABEL = "stores' seed reward,\nvalidation [per store, episode]"
_RUN = ["scenario", "policy", "training_seed"]


def learner_steps(curves: pd.DataFrame) -> pd.DataFrame:
    """``curves`` with ``role`` (which learner was training) and ``steps`` (that learner's
    own training steps so far, over every round) columns."""
    frame = curves.copy()
    if "learner" not in frame:
        frame["learner"] = np.nan
    if "round" not in frame:
        frame["round"] = 1
    frame["role"] = frame["learner"].where(frame["learner"].notna(), "stores")
    frame["round"] = frame["round"].fillna(1).astype(int)
    steps = np.zeros(len(frame))
    for _, run in frame.groupby(_RUN, sort=False, dropna=False):
        done: dict[str, float] = {}
        phase_keys = list(dict.fromkeys(zip(run["round"], run["role"], strict=True)))
        for rnd, role in phase_keys:
            phase = run[(run["round"] == rnd) & (run["role"] == role)]
            start = phase["timesteps"].min()
            local = phase["timesteps"] - start
            steps[frame.index.get_indexer(phase.index)] = local + done.get(role, 0.0)
            done[role] = done.get(role, 0.0) + float(local.max())
    frame["steps"] = steps
    return frame


def selected_checkpoints(frame: pd.DataFrame) -> pd.DataFrame:
    """The row of each (run, round, role) with the lowest validation cost (the first if
    tied, as training keeps the first best)."""
    keys = [*_RUN, "round", "role"]
    index = frame.groupby(keys, sort=False, dropna=False)["mean_total_cost"].idxmin()
    return frame.loc[index.dropna().astype(int)]


def _band(data: pd.DataFrame, column: str, rng: np.random.Generator) -> pd.DataFrame:
    """Mean over training seeds at each step, with a 95% percentile bootstrap over seeds."""
    out = []
    for step, rows in data.groupby("steps", sort=True):
        values = rows[column].dropna().to_numpy(float)
        if not len(values):
            continue
        low = high = float(values.mean())
        if len(values) > 1:
            draws = rng.choice(values, size=(1000, len(values))).mean(axis=1)
            low, high = np.quantile(draws, [0.025, 0.975])
        out.append((step, float(values.mean()), float(low), float(high)))
    return pd.DataFrame(out, columns=["steps", "mean", "low", "high"])


def _frame(curves: pd.DataFrame, metric: str) -> pd.DataFrame:
    frame = learner_steps(curves)
    return frame if metric == "mean_total_cost" else frame[frame["role"] == "stores"]


def _roles(frame: pd.DataFrame) -> list[str]:
    present = set(frame["role"])
    return [r for r in ROLES if r in present] + sorted(present - set(ROLES))


def _columns(roles: list[str], width: float) -> int:
    """A column per learning role at two-column width (up to four), two at one column."""
    return min(len(roles), 4 if not narrow(width) else 2) if len(roles) > 1 else grid_columns(width)


def _legend_labels(frame: pd.DataFrame, width: float, metric: str) -> list[str]:
    labels = [short_label(p, narrow(width)) for p in dict.fromkeys(frame["policy"])]
    checkpoint = "selected checkpoint" if narrow(width) else CHECKPOINT_LABEL
    return labels + ([checkpoint] if metric == "mean_total_cost" else [])


CHECKPOINT_LABEL = "selected checkpoint (per training seed)"


def curve_pages(curves: pd.DataFrame, width: float, metric: str = "mean_total_cost") -> list:
    """The scenarios of each page of the learning-curve figure at ``width``."""
    frame = _frame(curves, metric)
    scenarios = list(frame["scenario"].unique())
    roles = _roles(frame)
    columns = _columns(roles, width)
    legend = legend_rows(_legend_labels(frame, width, metric), width)
    if len(roles) == 1:
        return chunks(scenarios, per_page(len(scenarios), width, PANEL_HEIGHT, columns, legend))
    rows_each = math.ceil(len(roles) / columns)
    size = per_page(len(scenarios), width, PANEL_HEIGHT * rows_each, 1, legend)
    return chunks(scenarios, size)


def learning_curves_figure(
    curves: pd.DataFrame,
    styles: dict[str, PolicyStyle],
    width: float,
    seed: int = 0,
    metric: str = "mean_total_cost",
    scenarios: list[str] | None = None,
) -> plt.Figure:
    """The learning curves of ``metric`` (validation total cost, or ``mean_reward``: the
    stores' seed reward, drawn for the stores' learning only) of ``scenarios`` (default:
    all; :func:`curve_pages` splits them so a figure stays within 9 in)."""
    frame = _frame(curves, metric)
    roles = _roles(frame)  # every page gets the same columns
    labels = _legend_labels(frame, width, metric)
    every_policy = list(dict.fromkeys(frame["policy"]))
    if scenarios is not None:
        frame = frame[frame["scenario"].isin(scenarios)]
    scenarios = list(frame["scenario"].unique())
    columns = _columns(roles, width)
    if len(roles) > 1:  # a row per scenario, a column per learning role
        panels = [(s, r) for s in scenarios for r in roles]
    else:
        panels = [(s, roles[0]) for s in scenarios]
    fig, axes = facets(len(panels), width, PANEL_HEIGHT, columns,
                       legend_rows=legend_rows(labels, width))  # fmt: skip
    selected = selected_checkpoints(frame)
    policies = list(dict.fromkeys(frame["policy"]))
    for ax, (scenario, role) in zip(axes, panels, strict=True):
        here = frame[(frame["scenario"] == scenario) & (frame["role"] == role)]
        for name in policies:
            data = here[here["policy"] == name]
            if data.empty:
                continue
            style = styles[name]
            rng = np.random.default_rng([seed, zlib.crc32(f"{scenario}|{role}|{name}".encode())])
            band = _band(data, metric, rng)
            if band.empty:  # no value of this metric (a learner that does not log it)
                continue
            ax.fill_between(band["steps"], band["low"], band["high"], color=style.color,
                            alpha=0.18, lw=0)  # fmt: skip
            every = max(1, len(band) // 4)
            ax.plot(band["steps"], band["mean"], color=style.color, ls=style.linestyle, lw=1.2,
                    marker=style.marker, ms=3.5, markevery=(every // 2, every))  # fmt: skip
            if metric == "mean_total_cost":
                chosen = selected[(selected["scenario"] == scenario) & (selected["role"] == role)
                                  & (selected["policy"] == name)]  # fmt: skip
                ax.plot(chosen["steps"], chosen[metric], ls="none", marker="v", ms=4,
                        color=style.color, mec="black", mew=0.5, zorder=4)  # fmt: skip
        _axes_labels(ax, scenario, role, len(roles) > 1, metric, here)
        if here.empty:
            ax.text(0.5, 0.5, "no learner of this role", transform=ax.transAxes,
                    ha="center", va="center", fontsize=6.5, color="0.4")  # fmt: skip
    _legend(fig, every_policy, styles, metric, width, labels)
    n_seeds = int(frame.groupby(["scenario", "policy"])["training_seed"].nunique().max())
    what = "total cost" if metric == "mean_total_cost" else "stores' seed reward"
    spread = (
        f"mean over {n_seeds} training seeds, band: 95% bootstrap CI over seeds"
        if n_seeds > 1
        else "one training seed"
    )
    mark = "; triangles: each seed's selected checkpoint" if metric == "mean_total_cost" else ""
    caption(
        fig, f"Learning curves: {what} on the validation seeds during training; {spread}{mark}."
    )
    return fig


def _axes_labels(ax, scenario: str, role: str, by_role: bool, metric: str, data) -> None:
    name = ROLE_NAMES.get(role, role)
    title = scenario_title(scenario, 22)
    ax.set_title(f"{title}\n{name}" if by_role else title)
    if narrow(ax.figure.get_size_inches()[0]):  # the role is in the title: a short label
        ax.set_xlabel("training steps")
    else:
        ax.set_xlabel(f"{name}' training steps" if name == "stores" else f"{name}'s training steps")
    label = COST_LABEL if metric == "mean_total_cost" else REWARD_LABEL
    if ax.get_subplotspec().is_first_col():
        ax.set_ylabel(label)
    values = data[metric].dropna()
    if metric == "mean_total_cost" and len(values) and values.max() > 3 * values.min() > 0:
        ax.set_yscale("log")  # an untrained start far above the end: both stay readable
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(ax.get_title() + " (log y)")
    thousands(ax, "both")


def _legend(fig, policies, styles, metric: str, width: float, labels: list[str]) -> None:
    handles = [Line2D([], [], color=styles[n].color, ls=styles[n].linestyle, lw=1.4,
                      marker=styles[n].marker, ms=3.5) for n in policies]  # fmt: skip
    if metric == "mean_total_cost":
        handles.append(Line2D([], [], ls="none", marker="v", color="0.5", mec="black", mew=0.5))
    fig.legend(handles, labels, loc="outside lower center", frameon=False,
               ncol=legend_columns(labels, width, handle_in=0.55), handlelength=2.4)  # fmt: skip
