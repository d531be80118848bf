"""``python -m hmarl_bench.run --learners stores,warehouse --rounds K``: the hierarchy's run.

Called by :mod:`hmarl_bench.run` when the learners are not the stores alone for one round
(that run keeps its own path). Trains with :func:`~hmarl_bench.learn.rounds.train_rounds`,
prints and writes every round's KPIs and system-level reward, then compares the last
round's chain with the rule-based baselines on the same held-out seeds.

Outputs under ``--out``: ``round_<k>/<learner>.zip`` (the round's selected models),
``round_<k>/<learner>_learning_curve.csv``, ``round_<k>/episodes.csv``, ``rounds.csv``
(one row per round), ``rounds.md``, ``results.csv`` / ``results.md`` / ``episodes.csv`` (the
last round against the baselines) and ``config.json``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hmarl_bench.config import Scenario
from hmarl_bench.learn.hierarchy import parse_learners
from hmarl_bench.learn.rounds import ROUND_COLUMNS, RoundResult, round_summary, train_rounds
from hmarl_bench.run import (
    EVAL_SEED_BASE,
    N_VALIDATION_SEEDS,
    VALIDATION_SEED_BASE,
    RunArgs,
)
from hmarl_bench.run_report import (
    compare_with_baselines,
    mean_and_ci,
    print_table,
    versions,
)

__all__ = ["render_rounds", "run_rounds"]

_ROUND_TITLES = {
    "total_cost": "total cost",
    "fill_rate": "fill rate",
    "lost_sales": "lost sales [units]",
    "mean_store_inventory": "store inventory [units]",
    "mean_warehouse_inventory": "warehouse inventory [units]",
    "system_reward": "system reward",
}


def _cell(row: pd.Series | dict[str, Any], column: str) -> str:
    return mean_and_ci(row, column)


def render_rounds(rows: list[dict[str, Any]]) -> str:
    """The rounds as a Markdown table (mean [95% CI] over held-out episodes)."""
    head = "| round | " + " | ".join(_ROUND_TITLES[c] for c in ROUND_COLUMNS) + " |"
    lines = [head, "|---" * (len(ROUND_COLUMNS) + 1) + "|"]
    for row in rows:
        cells = " | ".join(_cell(row, c) for c in ROUND_COLUMNS)
        lines.append(f"| {row['round']} | {cells} |")
    return "\n".join(lines) + "\n"


def _print_round(result: RoundResult, names: str) -> None:
    from rich.console import Console
    from rich.table import Table

    row = round_summary(result)
    table = Table(title=f"round {result.round} ({names}): {row['episodes']} held-out episodes")
    table.add_column("KPI")
    table.add_column("mean [95% CI]", justify="right")
    for column in ROUND_COLUMNS:
        table.add_row(_ROUND_TITLES[column], _cell(row, column))
    trained = ", ".join(f"{n} {s:.0f} s" for n, s in result.train_seconds.items())
    console = Console() if Console().is_terminal else Console(width=120)
    console.print(table)
    console.print(f"trained: {trained}")


def run_rounds(args: RunArgs, scenario: Scenario, overrides: dict[str, Any]) -> int:
    """Train the learners for ``args.rounds`` rounds, log every round, compare with rules."""

    learners = parse_learners(args.learners)
    names = "+".join(learner.name for learner in learners)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    default = f"runs/{scenario.name}-{args.algo}-{names}-seed{args.seed}-{stamp}"
    out = Path(args.out or default)
    out.mkdir(parents=True, exist_ok=True)
    validation_seeds = [VALIDATION_SEED_BASE + i for i in range(N_VALIDATION_SEEDS)]
    eval_seeds = [EVAL_SEED_BASE + i for i in range(args.eval_episodes)]
    print(
        f"training {names} with {args.algo} on '{scenario.name}' for {args.rounds} round(s) "
        f"(seed {args.seed}); outputs in {out}"
    )
    try:
        results = train_rounds(
            scenario,
            learners,
            args.rounds,
            args.algo,
            args.seed,
            args.timesteps,
            args.n_envs,
            overrides,
            validation_seeds,
            eval_seeds,
            args.eval_freq,
            out,
            args.progress,
            on_round=lambda result: _print_round(result, names),
        )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rows = [round_summary(r) for r in results]
    (out / "rounds.md").write_text(render_rounds(rows), encoding="utf-8")

    final = results[-1]
    label = f"{args.algo}:{names}"
    # the last round, evaluated on eval_seeds
    table = compare_with_baselines(
        scenario, {label: final.episodes}, validation_seeds, eval_seeds, args.seed, out
    )
    config = {
        "args": asdict(args),
        "learners": [learner.name for learner in learners],
        "scenario": scenario.to_dict(),
        "validation_seeds": validation_seeds,
        "eval_seeds": eval_seeds,
        "train_seconds": [r.train_seconds for r in results],
        "timesteps": [r.timesteps for r in results],
        "versions": versions(),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
    print_table(
        table,
        f"{scenario.name}, after round {final.round}: {len(eval_seeds)} held-out episodes "
        "(mean and 95% CI; costs in currency per episode)",
    )
    print(f"wrote {out}/rounds.csv, rounds.md, round_<k>/, results.csv, results.md, config.json")
    return 0
