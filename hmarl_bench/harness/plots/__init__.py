"""Figures for write-ups: every kind at two-column (7 in) and one-column (3.5 in) width.

Each figure is built by a function that returns the matplotlib figure (so tests can check
its panels, labels and legend) and written by :func:`plot_all` as PNG and PDF:
``<stem>.png``/``.pdf`` at two-column width, ``<stem>_1col.png``/``.pdf`` at one-column
width. The figures:

- ``total_cost``: mean total cost per policy with 95% CIs, a panel per scenario;
- ``paired_difference``: each policy's paired difference to the reference (% of its cost);
- ``per_seed``: every evaluation episode's cost, box per policy;
- ``cost_breakdown``: store holding, warehouse holding, lost sales and ordering;
- ``service_vs_cost``: fill rate against cost, the cluster that matters in range;
- ``learning_curves`` (and ``learning_curves_reward`` for store learners): validation cost
  during training, a panel per scenario and learning role;
- ``episode_<scenario>``: one episode of a learner beside its like-for-like rule;
- ``generalization`` (from :mod:`hmarl_bench.harness.generalization`).

Style, colours and byte-stable saving: :mod:`hmarl_bench.harness.plots.style`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from hmarl_bench.harness.plots.costs import (
    cost_breakdown_figure,
    paired_difference_figure,
    per_seed_figure,
    total_cost_figure,
)
from hmarl_bench.harness.plots.curves import learning_curves_figure
from hmarl_bench.harness.plots.episode import episode_columns, episode_figure
from hmarl_bench.harness.plots.service import service_vs_cost_figure
from hmarl_bench.harness.plots.style import (
    ONE_COLUMN,
    TWO_COLUMN,
    WIDTHS,
    PolicyStyle,
    policy_order,
    policy_styles,
    save,
    set_style,
)

__all__ = [
    "ONE_COLUMN",
    "TWO_COLUMN",
    "WIDTHS",
    "PolicyStyle",
    "cost_breakdown_figure",
    "episode_columns",
    "episode_figure",
    "learning_curves_figure",
    "paired_difference_figure",
    "per_seed_figure",
    "plot_all",
    "policy_order",
    "policy_styles",
    "save",
    "service_vs_cost_figure",
    "set_style",
    "total_cost_figure",
]


def plot_all(
    out_dir: Path,
    headline: pd.DataFrame,
    per_seed: pd.DataFrame,
    curves: pd.DataFrame,
    traces: dict[tuple[str, str, Any], dict],
    seed: int = 0,
    learned_roles: Mapping[str, tuple[str, ...]] | None = None,
) -> list[Path]:
    """Every figure the data allows, at both widths; returns the files written.

    ``learned_roles`` maps a learner policy to the roles it trains (a benchmark's algo
    entries); policies not in it learn the stores only.
    """
    out_dir = Path(out_dir)
    styles = policy_styles(headline)
    roles = dict(learned_roles or {})
    paths: list[Path] = []
    for suffix, width in WIDTHS.items():
        set_style(width)
        figures = {
            "total_cost": total_cost_figure(headline, styles, width),
            "paired_difference": paired_difference_figure(headline, styles, width),
            "per_seed": per_seed_figure(per_seed, headline, styles, width, seed),
            "cost_breakdown": cost_breakdown_figure(headline, styles, width),
            "service_vs_cost": service_vs_cost_figure(headline, styles, width),
        }
        for stem, fig in figures.items():
            paths += save(fig, out_dir, stem + suffix)
        if len(curves):
            fig = learning_curves_figure(curves, styles, width, seed)
            paths += save(fig, out_dir, "learning_curves" + suffix)
            if "mean_reward" in curves and _stores_learn(curves):
                fig = learning_curves_figure(curves, styles, width, seed, "mean_reward")
                paths += save(fig, out_dir, "learning_curves_reward" + suffix)
        for scenario, group in headline.groupby("scenario", sort=False):
            columns = episode_columns(group, traces, roles, one_column=width < TWO_COLUMN)
            if columns:
                fig = episode_figure(str(scenario), columns, styles, width)
                paths += save(fig, out_dir, f"episode_{scenario}{suffix}")
    return paths


def _stores_learn(curves: pd.DataFrame) -> bool:
    return "learner" not in curves or bool((curves["learner"].fillna("stores") == "stores").any())
