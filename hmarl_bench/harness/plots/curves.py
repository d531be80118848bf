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

import zlib

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, NullFormatter

from hmarl_bench.harness.plots.costs import caption
from hmarl_bench.harness.plots.style import (
    PolicyStyle,
    facets,
    grid_columns,
    scenario_title,
    thousands,
)

__all__ = ["learner_steps", "learning_curves_figure", "selected_checkpoints"]

#: Panels by what was learning: the roles, and the residual learner (factors on a rule).
ROLES = ("stores", "warehouse", "supplier", "residual")
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


def learning_curves_figure(
    curves: pd.DataFrame,
    styles: dict[str, PolicyStyle],
    width: float,
    seed: int = 0,
    metric: str = "mean_total_cost",
) -> plt.Figure:
    """The learning curves of ``metric`` (validation total cost, or ``mean_reward``: the
    stores' seed reward, drawn for the stores' learning only)."""
    frame = learner_steps(curves)
    if metric != "mean_total_cost":
        frame = frame[frame["role"] == "stores"]
    scenarios = list(frame["scenario"].unique())
    roles = [r for r in ROLES if r in set(frame["role"])]
    if len(roles) > 1:  # a row per scenario, a column per learning role
        panels = [(s, r) for s in scenarios for r in roles]
        columns = len(roles)
    else:
        panels = [(s, roles[0]) for s in scenarios]
        columns = grid_columns(width)
    height = 1.5
    fig, axes = facets(len(panels), width, height, columns, legend_rows=2)
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
            ax.fill_between(band["steps"], band["low"], band["high"], color=style.color,
                            alpha=0.18, lw=0)  # fmt: skip
            ax.plot(band["steps"], band["mean"], color=style.color, ls=style.linestyle, lw=1.2)
            if metric == "mean_total_cost":
                chosen = selected[(selected["scenario"] == scenario) & (selected["role"] == role)
                                  & (selected["policy"] == name)]  # fmt: skip
                ax.plot(chosen["steps"], chosen[metric], ls="none", marker="v", ms=4,
                        color=style.color, mec="black", mew=0.5, zorder=4)  # fmt: skip
        _axes_labels(ax, scenario, role, len(roles) > 1, metric, here)
    _legend(fig, policies, styles, metric, width)
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
    title = scenario_title(scenario)
    ax.set_title(f"{title}: {role} learning" if by_role else title)
    ax.set_xlabel(f"{role}' training steps" if role == "stores" else f"{role}'s training steps")
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


def _legend(fig, policies, styles, metric: str, width: float) -> None:
    handles = [Line2D([], [], color=styles[n].color, ls=styles[n].linestyle, lw=1.4)
               for n in policies]  # fmt: skip
    labels = list(policies)
    if metric == "mean_total_cost":
        handles.append(Line2D([], [], ls="none", marker="v", color="0.5", mec="black", mew=0.5))
        labels.append("selected checkpoint (per training seed)")
    fig.legend(handles, labels, loc="outside lower center", frameon=False,
               ncol=min(len(labels), 4 if width >= 6 else 2), handlelength=2.4)  # fmt: skip
