"""The generalization table: learners trained on one scenario, run on every other one.

For each learner policy and target scenario: the mean total cost (95% hierarchical
bootstrap CI: training seeds, then episodes; :mod:`hmarl_bench.harness.stats`) of the
policies trained on the benchmark's ``generalization.train_scenario`` and run unchanged
on the target, against the same learner trained on the target itself and the target's
best baseline, all on the same evaluation seeds. ``transfer gap`` = 100 x (transferred -
trained there) / trained there. The target's "best baseline" is its reference: the best
rule on its tuning seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hmarl_bench.harness.cells import write_atomic
from hmarl_bench.harness.stats import _rng, hierarchical_ci, seed_episode_grid
from hmarl_bench.harness.tables import to_latex, to_markdown

__all__ = ["generalization_table", "write_generalization"]

TITLES = [
    "Target scenario",
    "Policy",
    "Trained on {train} [95% CI]",
    "Trained on the target",
    "Transfer gap (%)",
    "Reference on the target",
    "Reference cost",
]


def generalization_table(
    transfers: pd.DataFrame,
    per_seed: pd.DataFrame,
    headline: pd.DataFrame,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (target scenario, learner policy); costs in currency per episode."""
    rows = []
    for (target, policy), group in transfers.groupby(["target_scenario", "policy"], sort=False):
        grid = seed_episode_grid(group, "total_cost")  # training seeds x episodes
        low, high = hierarchical_ci(
            grid, n_resamples=n_resamples, confidence_level=confidence_level,
            rng=_rng(seed, "transfer", target, policy),
        )  # fmt: skip
        here = per_seed[(per_seed["scenario"] == target) & (per_seed["policy"] == policy)]
        scenario_rows = headline[headline["scenario"] == target]
        best = scenario_rows["best_baseline"].dropna()
        best_name = best.iloc[0] if len(best) else None
        best_cost = scenario_rows.loc[scenario_rows["policy"] == best_name, "total_cost_mean"]
        transferred = float(group["total_cost"].mean())
        trained_here = float(here["total_cost"].mean()) if len(here) else np.nan
        rows.append(
            {
                "train_scenario": group["train_scenario"].iloc[0],
                "target_scenario": target,
                "policy": policy,
                "n_training_seeds": int(group["training_seed"].nunique()),
                "transferred_cost": transferred,
                "transferred_ci_low": low,
                "transferred_ci_high": high,
                "trained_here_cost": trained_here,
                "transfer_gap_pct": 100.0 * (transferred - trained_here) / trained_here,
                "transferred_fill_rate": float(group["fill_rate"].mean()),
                "best_baseline": best_name,
                "best_baseline_cost": float(best_cost.iloc[0]) if len(best_cost) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _cells(table: pd.DataFrame) -> list[list[str | None]]:
    def money(v: float) -> str | None:
        return None if not np.isfinite(v) else f"{v:,.0f}"

    out = []
    for _, r in table.iterrows():
        ci = f"{money(r['transferred_cost'])}"
        if np.isfinite(r["transferred_ci_low"]):
            ci += f" [{money(r['transferred_ci_low'])}, {money(r['transferred_ci_high'])}]"
        gap = r["transfer_gap_pct"]
        out.append(
            [
                r["target_scenario"],
                r["policy"],
                ci,
                money(r["trained_here_cost"]),
                None if not np.isfinite(gap) else f"{gap:+.1f}",
                r["best_baseline"],
                money(r["best_baseline_cost"]),
            ]
        )
    return out


def write_generalization(
    tables_dir: Path, table: pd.DataFrame, figures_dir: Path | None, headline: pd.DataFrame
) -> list[Path]:
    """``generalization.csv`` / ``.md`` / ``.tex`` and, with ``figures_dir``, the figure at
    both widths (colours as in the benchmark's other figures, from ``headline``); returns
    the files written."""
    tables_dir.mkdir(parents=True, exist_ok=True)
    train = table["train_scenario"].iloc[0]
    titles = [t.format(train=train) for t in TITLES]
    cells = _cells(table)
    note = (
        f"\nPolicies trained on '{train}' and run unchanged on each other scenario, on the "
        "same evaluation episodes as the policies trained there; mean total cost per "
        "episode (95% bootstrap CI stratified by training seed). Transfer gap = "
        "(transferred - trained on the target) / trained on the target.\n"
    )
    paths = [tables_dir / "generalization.csv", tables_dir / "generalization.md"]
    paths.append(tables_dir / "generalization.tex")
    write_atomic(paths[0], table.to_csv(index=False).encode())
    heading = f"# Generalization from '{train}'\n\n"
    write_atomic(paths[1], (heading + to_markdown(titles, cells) + note).encode())
    write_atomic(paths[2], to_latex(titles, cells, caption=f"Generalization from {train}").encode())
    if figures_dir is not None:
        from hmarl_bench.harness.plots import WIDTHS, policy_styles, save, set_style
        from hmarl_bench.harness.plots.generalization import generalization_figure

        styles = policy_styles(headline)
        for suffix, width in WIDTHS.items():
            set_style(width)
            fig = generalization_figure(table, styles, width)
            paths += save(fig, figures_dir, f"generalization{suffix}")
    return paths
