"""Figures for write-ups (seaborn; PNG at 150 dpi and PDF), in one consistent style.

Every figure is faceted by scenario; colours follow :func:`policy_colors` (from the
colour-blind palette) in every figure, so a policy looks the same everywhere:
learners (and external policies) in strong colours, baselines in grey, the best baseline
in orange, the clairvoyant bound in green. Intervals are the tables' 95% bootstrap CIs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

__all__ = ["plot_all", "policy_colors", "set_style"]

COST_UNIT = "total cost [currency/episode]"
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "h", "<", ">", "p")
STEPS = "environment steps (store decisions)"
#: The x label when warehouse or supplier learners are in the curves.
ROLE_STEPS = "training steps (learners' decisions)"


def set_style() -> None:
    """The one style of every figure: seaborn whitegrid, paper context, colour-blind palette."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.15)
    plt.rcParams.update(
        {"savefig.dpi": 150, "savefig.bbox": "tight", "figure.dpi": 100, "axes.titleweight": "bold"}
    )


def _palette() -> list[tuple[float, float, float]]:
    return sns.color_palette("colorblind")


def _thousands(ax: plt.Axes, axis: str = "x") -> None:
    """Tick labels like ``120k`` (no offset text colliding with the axis label)."""
    formatter = FuncFormatter(lambda v, _: f"{v / 1e3:,.0f}k" if abs(v) >= 1e4 else f"{v:,.0f}")
    for which in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"{which}axis").set_major_formatter(formatter)


def policy_markers(headline: pd.DataFrame) -> dict[str, str]:
    """A marker per policy (told apart where colours repeat, e.g. the grey baselines)."""
    names = list(dict.fromkeys(headline["policy"]))
    return {name: MARKERS[i % len(MARKERS)] for i, name in enumerate(names)}


def policy_colors(headline: pd.DataFrame) -> dict[str, Any]:
    """A colour per policy, the same in every figure."""
    pal = _palette()
    learner_colors = [pal[0], pal[4], pal[9], pal[5], pal[6], pal[3]]
    colors: dict[str, Any] = {}
    learners = [p for p in headline.loc[headline["kind"] == "learner", "policy"].unique()]
    for i, name in enumerate(learners):
        colors[name] = learner_colors[i % len(learner_colors)]
    externals = headline.loc[headline["kind"] == "external", "policy"].unique()
    for i, name in enumerate(externals, start=len(learners)):  # brought policies: strong too
        colors[name] = learner_colors[i % len(learner_colors)]
    best = set(headline["best_baseline"].dropna())
    for name in headline.loc[headline["kind"] == "baseline", "policy"].unique():
        colors[name] = pal[1] if name in best else pal[7]
    colors["clairvoyant"] = pal[2]
    return colors


def _save(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    for path in paths:
        fig.savefig(path)
    plt.close(fig)
    return paths


def _facets(n: int, width: float, height: float, wrap: int = 3, sharex: bool = False):
    cols = min(n, wrap)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(width * cols, height * rows), squeeze=False, sharex=sharex
    )
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _ordered(group: pd.DataFrame) -> pd.DataFrame:
    """Policies from lowest to highest mean cost (plotted top to bottom)."""
    return group.sort_values("total_cost_mean", ascending=False).reset_index(drop=True)


def plot_total_cost(headline: pd.DataFrame, colors: dict, out_dir: Path) -> list[Path]:
    scenarios = list(headline["scenario"].unique())
    n_pol = headline.groupby("scenario").size().max()
    fig, axes = _facets(len(scenarios), 4.6, 0.32 * n_pol + 1.3)
    for ax, scenario in zip(axes, scenarios, strict=True):
        group = _ordered(headline[headline["scenario"] == scenario])
        y = np.arange(len(group))
        mean = group["total_cost_mean"].to_numpy()
        err = np.vstack([mean - group["total_cost_ci_low"], group["total_cost_ci_high"] - mean])
        ax.errorbar(mean, y, xerr=np.nan_to_num(err), fmt="none", ecolor="0.3", capsize=3, lw=1)
        ax.scatter(mean, y, c=[colors[p] for p in group["policy"]], s=36, zorder=3)
        ax.set_yticks(y, group["policy"])
        ax.set_title(scenario)
        ax.set_xlabel(COST_UNIT)
        _thousands(ax)
    fig.suptitle("Mean total cost with 95% bootstrap CI (lower is better)", y=1.0)
    fig.tight_layout()
    return _save(fig, out_dir, "total_cost")


def plot_cost_breakdown(headline: pd.DataFrame, out_dir: Path) -> list[Path]:
    scenarios = list(headline["scenario"].unique())
    n_pol = headline.groupby("scenario").size().max()
    parts = [
        ("holding_cost_mean", "holding"),
        ("lost_sales_cost_mean", "lost sales"),
        ("ordering_cost_mean", "ordering"),
    ]
    pal = _palette()
    fig, axes = _facets(len(scenarios), 4.6, 0.32 * n_pol + 1.3)
    for ax, scenario in zip(axes, scenarios, strict=True):
        group = _ordered(headline[headline["scenario"] == scenario])
        left = np.zeros(len(group))
        for (column, label), color in zip(parts, (pal[0], pal[3], pal[8]), strict=True):
            values = group[column].fillna(0).to_numpy() if column in group else left * 0
            ax.barh(group["policy"], values, left=left, color=color, label=label, height=0.7)
            left += values
        ax.set_title(scenario)
        ax.set_xlabel("mean cost [currency/episode]")
        _thousands(ax)
    fig.suptitle("Where the cost comes from (mean over evaluation episodes)", y=1.0)
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3)
    return _save(fig, out_dir, "cost_breakdown")


def plot_service_vs_cost(headline: pd.DataFrame, colors: dict, out_dir: Path) -> list[Path]:
    scenarios = list(headline["scenario"].unique())
    markers = policy_markers(headline)
    fig, axes = _facets(len(scenarios), 4.8, 3.8)
    for ax, scenario in zip(axes, scenarios, strict=True):
        group = headline[headline["scenario"] == scenario]
        bound = group.loc[group["policy"] == "clairvoyant", "total_cost_mean"]
        for _, row in group[group["fill_rate_mean"].notna()].iterrows():
            x, y = row["total_cost_mean"], 100 * row["fill_rate_mean"]
            xerr = [[x - row["total_cost_ci_low"]], [row["total_cost_ci_high"] - x]]
            yerr = [[y - 100 * row["fill_rate_ci_low"]], [100 * row["fill_rate_ci_high"] - y]]
            ax.errorbar(
                x,
                y,
                xerr=np.nan_to_num(xerr),
                yerr=np.nan_to_num(yerr),
                marker=markers[row["policy"]],
                color=colors[row["policy"]],
                ms=6,
                capsize=2,
                lw=1,
                ls="none",
                label=row["policy"],
                mec="0.2",
                mew=0.4,
            )
        if len(bound):
            ax.axvline(
                bound.iloc[0],
                color=colors["clairvoyant"],
                ls="--",
                lw=1.2,
                label="clairvoyant bound (cost)",
            )
        ax.set_title(scenario)
        ax.set_xlabel(COST_UNIT)
        ax.set_ylabel("fill rate [%]")
        _thousands(ax)
    fig.suptitle("Service level against cost (95% CIs; better: up and left)", y=1.0)
    fig.tight_layout()
    labels: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            labels.setdefault(label, handle)
    fig.legend(
        labels.values(),
        labels.keys(),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=min(4, len(labels)),
        fontsize="small",
    )
    return _save(fig, out_dir, "service_vs_cost")


def plot_per_seed(per_seed: pd.DataFrame, headline: pd.DataFrame, colors: dict, out_dir: Path):
    scenarios = list(headline["scenario"].unique())
    n_pol = headline.groupby("scenario").size().max()
    fig, axes = _facets(len(scenarios), 4.6, 0.34 * n_pol + 1.3)
    for ax, scenario in zip(axes, scenarios, strict=True):
        order = list(_ordered(headline[headline["scenario"] == scenario])["policy"])[::-1]
        data = per_seed[per_seed["scenario"] == scenario]
        kwargs = {"data": data, "x": "total_cost", "y": "policy", "order": order, "ax": ax}
        with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib 3.11's deprecated vert=
            warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)
            sns.boxplot(**kwargs, color="white", showfliers=False, width=0.6, linewidth=0.8)
        sns.stripplot(
            **kwargs, hue="policy", palette=colors, size=3, alpha=0.7, jitter=0.2, legend=False
        )
        ax.set_title(scenario)
        ax.set_xlabel(COST_UNIT)
        ax.set_ylabel("")
        _thousands(ax)
    fig.suptitle("Total cost of every evaluation episode (learners: all training seeds)", y=1.0)
    fig.tight_layout()
    return _save(fig, out_dir, "per_seed")


def plot_learning_curves(curves: pd.DataFrame, colors: dict, out_dir: Path, seed: int = 0):
    """A row per metric, a column per scenario (one scenario: the metrics side by side)."""
    scenarios = list(curves["scenario"].unique())
    metrics = [("mean_total_cost", "validation total cost\n[currency/episode]")]
    if "mean_reward" in curves:
        metrics.append(("mean_reward", "validation store reward\n[per store/episode]"))
    single = len(scenarios) == 1
    upper = "learner" in curves and curves["learner"].isin(["warehouse", "supplier"]).any()
    steps_label = ROLE_STEPS if upper else STEPS
    shape = (1, len(metrics)) if single else (len(metrics), len(scenarios))
    fig, axes = plt.subplots(
        *shape, squeeze=False, figsize=(4.6 * shape[1], 3.4 * shape[0]), sharex=True
    )
    for j, scenario in enumerate(scenarios):
        data = curves[curves["scenario"] == scenario]
        for i, (column, label) in enumerate(metrics):
            ax = axes[0, i] if single else axes[i, j]
            sns.lineplot(
                data=data,
                x="timesteps",
                y=column,
                hue="policy",
                palette=colors,
                errorbar=("ci", 95),
                n_boot=1000,
                seed=seed,
                ax=ax,
                marker="o",
                ms=3,
                legend=(i == 0 and j == 0),
            )
            ax.set_xlabel(steps_label)
            ax.set_ylabel(label if single or j == 0 else "")
            ax.set_title(scenario if single or i == 0 else "")
            _thousands(ax, "both" if upper else "y")
    n_seeds = curves.groupby(["scenario", "policy"])["training_seed"].nunique().max()
    fig.suptitle(f"Learning curves: mean and 95% CI over {n_seeds} training seed(s)", y=1.0)
    fig.tight_layout()
    return _save(fig, out_dir, "learning_curves")


def plot_episode(
    scenario: str, panels: list[tuple[str, dict]], out_dir: Path, colors: dict
) -> list[Path]:
    """One episode's daily series: a column per policy, a row per store and the warehouse."""
    stores = list(panels[0][1]["stores"])
    pal = _palette()
    rows = len(stores) + 1
    fig, axes = plt.subplots(
        rows,
        len(panels),
        figsize=(6.0 * len(panels), 2.5 * rows),
        sharex=True,
        sharey="row",
        squeeze=False,
    )
    for col, (title, trace) in enumerate(panels):
        days = np.asarray(trace["days"])
        for row in range(rows):
            ax = axes[row, col]
            ax.axvspan(days[0] - 0.5, trace["warmup_days"] - 0.5, color="0.92", lw=0)
            if row < len(stores):
                name, series, flow = stores[row], trace["stores"][stores[row]], "demand"
                flow_label = "demand"
            else:
                name, series, flow = "warehouse", trace["warehouse"], "shipped"
                flow_label = "shipped to stores"
            # Orders as one collection of stems (fast to draw, unlike 90 bar patches).
            ax.vlines(days, 0, series["ordered"], color=pal[1], lw=2.2, label="order placed")
            ax.plot(days, series[flow], color=pal[7], lw=1, label=flow_label)
            ax.plot(days, series["on_hand"], color=pal[0], lw=1.6, label="on hand (end of day)")
            if col == 0:
                ax.set_ylabel(f"{name}\n[units, units/day]")
            if row == 0:
                ax.set_title(title, color=colors.get(title.split(" ")[0], "black"))
            if col == len(panels) - 1 and row in (0, len(stores)):
                ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        axes[-1, col].set_xlabel("day (grey: warm-up, excluded from KPIs)")
    fig.suptitle(f"{scenario}: one evaluation episode (seed {panels[0][1]['seed']})", y=1.0)
    fig.tight_layout()
    return _save(fig, out_dir, f"episode_{scenario}")


def plot_all(
    out_dir: Path,
    headline: pd.DataFrame,
    per_seed: pd.DataFrame,
    curves: pd.DataFrame,
    traces: dict[tuple[str, str, Any], dict],
    seed: int = 0,
    episode_learners: Sequence[str] | None = None,
) -> list[Path]:
    """Every figure the data allows; returns the files written.

    The episode figures show one learner (``ppo`` if there is one) beside the best
    baseline, or each of ``episode_learners`` (a hierarchy benchmark's learner settings).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    set_style()
    colors = policy_colors(headline)
    paths = plot_total_cost(headline, colors, out_dir)
    paths += plot_cost_breakdown(headline, out_dir)
    paths += plot_service_vs_cost(headline, colors, out_dir)
    paths += plot_per_seed(per_seed, headline, colors, out_dir)
    if len(curves):
        paths += plot_learning_curves(curves, colors, out_dir, seed)
    for scenario, group in headline.groupby("scenario", sort=False):
        panels = []
        learners = list(group.loc[group["kind"] == "learner", "policy"])
        shown = [learner for learner in episode_learners or () if learner in learners]
        if not shown and learners:
            shown = ["ppo" if "ppo" in learners else learners[0]]
        for learner in shown:
            keys = sorted(k for k in traces if k[0] == scenario and k[1] == learner)
            if keys:
                panels.append((f"{learner} (training seed {keys[0][2]})", traces[keys[0]]))
        best = group["best_baseline"].dropna()
        if len(best) and (scenario, best.iloc[0], None) in traces:
            panels.append(
                (f"{best.iloc[0]} (best baseline)", traces[(scenario, best.iloc[0], None)])
            )
        if panels:
            paths += plot_episode(scenario, panels, out_dir, colors)
    return paths
