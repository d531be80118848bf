"""Figures for write-ups: every kind at two-column (7 in) and one-column (3.5 in) width.

Each figure is built by a function that returns the matplotlib figure (so tests can check
its panels, labels and legend) and written by :func:`plot_all` as PNG and PDF:
``<stem>.png``/``.pdf`` at two-column width, ``<stem>_1col.png``/``.pdf`` at one-column
width, none taller than 9 in: a figure with more scenarios than fit is split into pages
``<stem>_p2``, ``<stem>_p3``, ... The figures:

- ``total_cost``: mean total cost per policy with 95% CIs, a panel per scenario;
- ``paired_difference``: each policy's paired difference to the reference (% of its cost);
- ``paired_difference_zoom``: the same for the policies within 10% of the reference, on a
  range where every CI shows;
- ``per_seed``: every evaluation episode's cost, box per policy;
- ``cost_breakdown``: store holding, warehouse holding, lost sales and ordering;
- ``service_vs_cost``: fill rate against cost, the cluster that matters in range;
- ``learning_curves`` (and ``learning_curves_reward`` for store learners): validation cost
  during training, a panel per scenario and learning role (stores, warehouse, joint planner,
  residual);
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
    breakdown_legend_rows,
    cost_breakdown_figure,
    paired_difference_figure,
    panel_height,
    per_seed_figure,
    total_cost_figure,
)
from hmarl_bench.harness.plots.curves import curve_pages, learning_curves_figure
from hmarl_bench.harness.plots.episode import episode_columns, episode_figure, episode_pages
from hmarl_bench.harness.plots.service import (
    service_legend_rows,
    service_panel_height,
    service_vs_cost_figure,
)
from hmarl_bench.harness.plots.style import (
    MAX_HEIGHT,
    ONE_COLUMN,
    TWO_COLUMN,
    WIDTHS,
    PolicyStyle,
    chunks,
    grid_columns,
    page_stem,
    per_page,
    plotting_versions,
    policy_order,
    policy_styles,
    save,
    set_style,
)
from hmarl_bench.harness.plots.zoom import strongest, zoom_figure

__all__ = [
    "MAX_HEIGHT",
    "ONE_COLUMN",
    "TWO_COLUMN",
    "WIDTHS",
    "PolicyStyle",
    "cost_breakdown_figure",
    "episode_columns",
    "episode_figure",
    "episode_pages",
    "learning_curves_figure",
    "paired_difference_figure",
    "per_seed_figure",
    "plot_all",
    "plotting_versions",
    "policy_order",
    "policy_styles",
    "save",
    "scenario_pages",
    "service_vs_cost_figure",
    "set_style",
    "total_cost_figure",
    "zoom_figure",
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

    A figure with more scenarios than fit in :data:`~.style.MAX_HEIGHT` is split into
    pages: ``<stem>``, ``<stem>_p2``, ... ``learned_roles`` maps a learner policy to the
    roles it trains (a benchmark's algo entries); policies not in it learn the stores only.
    """
    out_dir = Path(out_dir)
    styles = policy_styles(headline)
    roles = dict(learned_roles or {})
    paths: list[Path] = []
    for suffix, width in WIDTHS.items():
        set_style(width)
        paged = _paged_figures(headline, per_seed, styles, width, seed)
        for stem, (height, legend, make) in paged.items():
            pages = scenario_pages(headline, width, height, legend)
            for page, part in enumerate(pages):
                fig = make(part)
                if fig is not None:
                    paths += save(fig, out_dir, page_stem(stem, page) + suffix)
        if len(curves):
            metrics = ["mean_total_cost"]
            if "mean_reward" in curves and _stores_learn(curves):
                metrics.append("mean_reward")
            for metric in metrics:
                stem = "learning_curves" + ("" if metric == "mean_total_cost" else "_reward")
                for page, scenarios in enumerate(curve_pages(curves, width, metric)):
                    fig = learning_curves_figure(curves, styles, width, seed, metric, scenarios)
                    paths += save(fig, out_dir, page_stem(stem, page) + suffix)
        for scenario, group in headline.groupby("scenario", sort=False):
            pages = episode_pages(group, traces, roles, one_column=width < TWO_COLUMN)
            for page, columns in enumerate(pages):
                fig = episode_figure(str(scenario), columns, styles, width)
                paths += save(fig, out_dir, page_stem(f"episode_{scenario}", page) + suffix)
    return paths


def _paged_figures(headline, per_seed, styles, width: float, seed: int) -> dict:
    """stem -> (panel height, legend rows, figure of a page's headline rows)."""
    rows = panel_height(len(policy_order(headline)), width)
    n_policies = len(policy_order(headline))
    return {
        "total_cost": (rows, 0, lambda h: total_cost_figure(h, styles, width)),
        "paired_difference": (rows, 0, lambda h: paired_difference_figure(h, styles, width)),
        "paired_difference_zoom": (
            panel_height(len(strongest(headline)), width) + 0.1,
            0,
            lambda h: zoom_figure(h, styles, width),
        ),
        "per_seed": (
            rows + 0.02 * n_policies,
            0,
            lambda h: per_seed_figure(per_seed, h, styles, width, seed),
        ),
        "cost_breakdown": (
            rows,
            breakdown_legend_rows(width),
            lambda h: cost_breakdown_figure(h, styles, width),
        ),
        "service_vs_cost": (
            service_panel_height(width),
            service_legend_rows(headline, styles, width),
            lambda h: service_vs_cost_figure(h, styles, width),
        ),
    }


def scenario_pages(
    headline: pd.DataFrame, width: float, panel_h: float, legend_rows: int = 0
) -> list[pd.DataFrame]:
    """``headline`` split by scenario into the pages of a figure of ``panel_h`` tall panels."""
    scenarios = list(headline["scenario"].unique())
    size = per_page(len(scenarios), width, panel_h, grid_columns(width), legend_rows)
    return [headline[headline["scenario"].isin(part)] for part in chunks(scenarios, size)]


def _stores_learn(curves: pd.DataFrame) -> bool:
    return "learner" not in curves or bool((curves["learner"].fillna("stores") == "stores").any())
