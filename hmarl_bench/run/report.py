"""Tables, figures and provenance of a ``python -m hmarl_bench.run`` run.

Per-episode KPI frames (one per policy, from :func:`hmarl_bench.evaluation.evaluate`)
become a table of means with 95% percentile-bootstrap CIs (scipy), written as CSV and
Markdown and printed with rich; the learning curve becomes a figure.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hmarl_bench._atomic import save_atomic, write_atomic
from hmarl_bench.confidence import mean_ci

__all__ = [
    "RUN_BASELINES",
    "TABLE_COLUMNS",
    "compare_with_baselines",
    "format_value",
    "mean_and_ci",
    "mean_ci",
    "plot_learning_curve",
    "print_cell",
    "print_table",
    "rich_table",
    "render_markdown",
    "summary_table",
    "versions",
]


#: Baselines of a run's final table (names in hmarl_bench.baselines).
RUN_BASELINES = ("seed_ss_actions", "fixed_forecast_actions", "random")


def compare_with_baselines(
    scenario: Any,
    learned: dict[str, pd.DataFrame],
    tuning_seeds: list[int],
    eval_seeds: list[int],
    seed: int,
    out: Path,
) -> pd.DataFrame:
    """Run :data:`RUN_BASELINES` on ``eval_seeds`` beside the ``learned`` policies' episode
    frames (the same seeds), write ``episodes.csv``, ``results.csv`` and ``results.md`` to
    ``out`` and return the summary table (learned policies first)."""
    from hmarl_bench.baselines import make_baseline
    from hmarl_bench.evaluation import evaluate

    frames = dict(learned)
    for name in RUN_BASELINES:
        controller = make_baseline(name, scenario, tuning_seeds=tuning_seeds, seed=seed)
        frames[name] = evaluate(scenario, controller, eval_seeds)
    table = summary_table(frames)
    per_episode = pd.concat([f.assign(policy=p) for p, f in frames.items()], ignore_index=True)
    write_atomic(out / "episodes.csv", per_episode.to_csv(index=False))
    write_atomic(out / "results.csv", table.to_csv(index=False))
    write_atomic(out / "results.md", render_markdown(table))
    return table


TABLE_COLUMNS = {
    "total_cost": "total cost",
    "fill_rate": "fill rate",
    "lost_sales": "lost sales [units]",
    "mean_store_inventory": "store inventory [units]",
    "store_reward": "seed reward",
}


def summary_table(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per policy: mean, 95% CI low and high of each KPI over episodes."""
    rows = []
    for policy, frame in frames.items():
        row: dict[str, Any] = {"policy": policy, "episodes": len(frame)}
        for col in TABLE_COLUMNS:
            mean, low, high = mean_ci(frame[col].to_numpy())
            row[col], row[f"{col}_ci_low"], row[f"{col}_ci_high"] = mean, low, high
        rows.append(row)
    return pd.DataFrame(rows)


def format_value(value: float, col: str) -> str:
    if col == "fill_rate":
        return f"{value:.4f}"
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def mean_and_ci(row: pd.Series | dict[str, Any], column: str) -> str:
    """``mean [ci_low, ci_high]`` of one KPI column of a summary row."""
    low, high = row[f"{column}_ci_low"], row[f"{column}_ci_high"]
    low_text, high_text = format_value(low, column), format_value(high, column)
    return f"{format_value(row[column], column)} [{low_text}, {high_text}]"


def render_markdown(table: pd.DataFrame) -> str:
    head = "| policy | " + " | ".join(TABLE_COLUMNS.values()) + " |"
    lines = [head, "|---" * (len(TABLE_COLUMNS) + 1) + "|"]
    for _, row in table.iterrows():
        cells = [mean_and_ci(row, c) for c in TABLE_COLUMNS]
        lines.append(f"| {row['policy']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: The printed table's column titles (two lines each, units included) and how a value of
#: each KPI prints: a fill rate as a percentage.
PRINT_TITLES = {
    "total_cost": "total\ncost\n[currency]",
    "fill_rate": "fill\nrate\n[%]",
    "lost_sales": "lost\nsales\n[units]",
    "mean_store_inventory": "store\nstock\n[units]",
    "store_reward": "\nseed\nreward",
}
#: An 80-column terminal: the printed table must fit without wrapping a number.
TERMINAL_COLUMNS = 80


def _printed(value: float, column: str, signed: bool = False) -> str:
    """A fill rate in % with two decimals; a mean whole from 100; an offset whole from 10
    and in thousands (``1.3k``) from 1,000, so a CI's two offsets fit a narrow column."""
    if column == "fill_rate":
        text = f"{100 * value:+.2f}"
    elif signed and abs(value) >= 1000:
        text = f"{value / 1000:+,.1f}k"
    else:
        text = f"{value:+,.0f}" if abs(value) >= (10 if signed else 100) else f"{value:+,.1f}"
    return text if signed else text.lstrip("+")


def print_cell(row: pd.Series | dict[str, Any], column: str) -> str:
    """Two lines: the mean, then the 95% CI's bounds as offsets from it (``-784/+699``),
    so an asymmetric interval prints in a narrow column."""
    mean, low, high = row[column], row[f"{column}_ci_low"], row[f"{column}_ci_high"]
    return (
        f"{_printed(mean, column)}\n"
        f"{_printed(low - mean, column, True)}/{_printed(high - mean, column, True)}"
    )


def rich_table(table: pd.DataFrame, title: str):
    """The summary as a rich table of at most :data:`TERMINAL_COLUMNS` columns."""
    from rich.table import Table
    from rich.text import Text

    rich_table = Table(
        title=title,
        caption="under each mean: its 95% bootstrap CI's bounds minus the mean (low/high); "
        "results.md has the intervals",
        box=None,  # no separator characters: one space between columns
        header_style="bold",
        pad_edge=False,
        collapse_padding=True,
        title_justify="left",
        caption_justify="left",
    )
    rich_table.add_column("policy", no_wrap=True)
    for column in TABLE_COLUMNS:
        title = Text(PRINT_TITLES[column], justify="right")  # Text: "[units]" is not markup
        rich_table.add_column(title, justify="right", no_wrap=True)
    for _, row in table.iterrows():
        cells = []
        for column in TABLE_COLUMNS:
            mean, offsets = print_cell(row, column).split("\n")
            cells.append(Text.assemble(mean, "\n", (offsets, "dim")))
        rich_table.add_row(str(row["policy"]), *cells)
    return rich_table


def print_table(table: pd.DataFrame, title: str) -> None:
    """Print the summary; it fits an 80-column terminal (a wider one changes nothing)."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal or console.width > TERMINAL_COLUMNS:
        console = Console(width=TERMINAL_COLUMNS)
    console.print(rich_table(table, title))


def plot_learning_curve(curve: pd.DataFrame, baseline_cost: float, path: Path) -> None:
    """The run's learning curve at one-column width (3.5 in), in the benchmark figures'
    style: validation total cost over training steps (thousands on both axes), the
    selected checkpoint marked, the seed rule's cost on the same validation seeds; written
    without timestamps or software versions, so a rerun gives the same bytes."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from hmarl_bench.harness.plots.style import (
        ONE_COLUMN,
        PNG_METADATA,
        palette,
        set_style,
        thousands,
    )

    set_style(ONE_COLUMN)
    pal = palette()
    fig, ax = plt.subplots(figsize=(ONE_COLUMN, 2.6), layout="constrained")
    ax.plot(curve["timesteps"], curve["mean_total_cost"], color=pal[0], marker="o", ms=3)
    best = curve.loc[curve["mean_total_cost"].idxmin()]
    ax.plot(best["timesteps"], best["mean_total_cost"], ls="none", marker="v", ms=6,
            color=pal[0], mec="black", mew=0.6, zorder=4)  # fmt: skip
    ax.axhline(baseline_cost, ls="--", color=pal[1], lw=1.1)
    ax.set_xlabel("training agent-steps")
    ax.set_ylabel("validation total cost\n[currency/episode]")
    thousands(ax, "both")
    handles = [
        Line2D([], [], color=pal[0], marker="o", ms=3),
        Line2D([], [], ls="none", marker="v", ms=6, color=pal[0], mec="black", mew=0.6),
        Line2D([], [], ls="--", color=pal[1], lw=1.1),
    ]
    labels = ["learned store policy", "selected checkpoint", "seed rule (s,S)"]
    fig.legend(handles, labels, loc="outside lower center", ncol=3, frameon=False,
               handlelength=1.6, columnspacing=0.8)  # fmt: skip
    save_atomic(path, lambda tmp: fig.savefig(tmp, metadata=PNG_METADATA))
    plt.close(fig)


def versions() -> dict[str, str]:
    import gymnasium
    import sb3_contrib
    import stable_baselines3
    import torch

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "sb3_contrib": sb3_contrib.__version__,
        "gymnasium": gymnasium.__version__,
    }
