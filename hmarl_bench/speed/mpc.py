"""``python -m hmarl_bench.speed.mpc``: what the rolling-horizon MILP costs per scenario.

``tuned_mpc_free`` (:class:`~hmarl_bench.baselines.mpc.RollingHorizonMILP`) solves one MILP
per copy and day, and its solve time grows fast with the stores of the chain. Before a
benchmark puts it on a scenario, this command measures it there: the untuned controller
(``mpc_free``, the defaults) runs one copy of the benchmark's first evaluation seed for up
to ``--seconds`` (at most the whole episode), and the mean solve time over the days it
reached, times the solves of a ``tuned_mpc_free`` cell, estimates that cell's CPU time.

A cell's solves: every candidate of the tuning (the defaults and
:data:`~hmarl_bench.baselines.mpc.SAFETY_GRID`) on every tuning seed, then the evaluation
seeds, then the tuning seeds again (the reference is chosen there), each for the whole
episode. The estimate extrapolates from the first days: on scenarios whose MILPs grow
harder later it is low. A stored cell's own ``seconds`` are the measured truth: the table
shows them beside the estimate wherever a benchmark under ``--results`` holds a
``tuned_mpc_free`` cell of the scenario run on as many tuning and evaluation seeds as
``--benchmark`` has (a cell made for other seeds solved a different number of MILPs).

``--policy mpc_fast_free`` measures the faster variant
(:class:`~hmarl_bench.baselines.mpc_fast.FastRollingHorizonMILP`, binaries on the first
days of each plan and a looser gap) instead, and estimates a ``tuned_mpc_fast_free`` cell
(the same solves). ``--days N`` stops after N simulated days instead (a fixed amount of
work, so that two policies or two machines compare on the same days).

Writes ``mpc.csv`` and ``mpc.md`` to ``--out``; ``--readme`` copies the table into a
Markdown page (``docs/results/frontier_mpc.md``) between ``<!-- speed:mpc -->`` and
``<!-- /speed:mpc -->``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from hmarl_bench._atomic import write_atomic
from hmarl_bench.baselines.mpc import SAFETY_GRID, RollingHorizonMILP
from hmarl_bench.baselines.mpc_fast import FastRollingHorizonMILP
from hmarl_bench.cli_parser import (
    OneLineParser,
    add_readme_argument,
    check_outputs,
    main_writing_atomically,
)
from hmarl_bench.config import Scenario, ScenarioError, load_scenario
from hmarl_bench.evaluation import evaluate

__all__ = [
    "README_KEY",
    "MilpCost",
    "cell_solves",
    "main",
    "measure",
    "stored_cell",
    "to_markdown",
]

README_KEY = "speed:mpc"
#: The controllers this command measures, by baseline name (their ``tuned_*`` cells solve
#: the same MILPs per day).
POLICIES: dict[str, type[RollingHorizonMILP]] = {
    "mpc_free": RollingHorizonMILP,
    "mpc_fast_free": FastRollingHorizonMILP,
}


class _Stop(Exception):
    """Raised inside ``decide`` when the time budget is spent."""


@dataclass(frozen=True)
class MilpCost:
    """One scenario's measurement (module docstring); times in seconds, CPU in hours."""

    scenario: str
    stores: int
    episode_days: int
    days_measured: int
    mean_solve: float
    slowest_solve: float
    cell_solves: int
    cell_cpu_hours: float
    stored_cell_hours: float | None = None  # a stored cell's own seconds, in hours
    stored_in: str = ""  # the benchmark that stored it


def cell_solves(scenario: Scenario, tuning_seeds: int, evaluation_seeds: int) -> int:
    """The MILPs a ``tuned_mpc_free`` cell solves (module docstring)."""
    episodes = (1 + len(SAFETY_GRID)) * tuning_seeds + evaluation_seeds + tuning_seeds
    return episodes * scenario.episode_days


def _budgeted(policy: str, deadline: float, days: int | None) -> RollingHorizonMILP:
    """``policy``'s controller, stopped at the first day that starts after ``deadline``
    (or after ``days`` days)."""

    class Budgeted(POLICIES[policy]):  # type: ignore[misc, valid-type]
        def decide(self, view):
            if self.solve_seconds and (
                time.perf_counter() > deadline
                or (days is not None and len(self.solve_seconds) >= days)
            ):
                raise _Stop
            return super().decide(view)

    return Budgeted()


def measure(
    scenario: Scenario | str,
    seconds: float,
    seed: int,
    tuning_seeds: int,
    evaluation_seeds: int,
    policy: str = "mpc_free",
    days: int | None = None,
) -> MilpCost:
    """Solve times of ``policy`` (:data:`POLICIES`) on one copy of ``seed`` for about
    ``seconds`` (or ``days`` days, whichever comes first)."""
    sc = load_scenario(scenario)
    controller = _budgeted(policy, time.perf_counter() + seconds, days)
    with contextlib.suppress(_Stop):  # the budget is spent: keep the days measured
        evaluate(sc, controller, [seed])
    solves = np.array([s for day in controller.solve_seconds for s in day])
    total = cell_solves(sc, tuning_seeds, evaluation_seeds)
    return MilpCost(
        scenario=sc.name,
        stores=sc.n_stores,
        episode_days=sc.episode_days,
        days_measured=len(controller.solve_seconds),
        mean_solve=float(solves.mean()),
        slowest_solve=float(solves.max()),
        cell_solves=total,
        cell_cpu_hours=float(solves.mean() * total / 3600),
    )


def stored_cell(
    results: Path,
    scenario: str,
    policy: str = "tuned_mpc_free",
    seeds: tuple[int, int] | None = None,
) -> tuple[float, str] | None:
    """The hours of a stored ``policy`` cell of ``scenario`` under ``results`` (the first
    benchmark folder by name that holds one), and that benchmark. A cell run as units
    stores its units' summed seconds: its CPU time. With ``seeds`` (tuning, evaluation
    counts) only a cell that ran on as many seeds counts: one made for other seed lists
    solved a different number of MILPs, and its time would not compare with the estimate."""
    for path in sorted(results.glob(f"*/cells/{scenario}__{policy}.json")):
        try:
            stored = json.loads(path.read_text("utf-8"))
            seconds = float(stored["seconds"])
            if seeds is not None:
                cell = stored["cell"]
                if (len(cell["tuning_seeds"]), len(cell["evaluation_seeds"])) != seeds:
                    continue
        except (OSError, ValueError, KeyError, TypeError):
            continue
        return seconds / 3600, path.parent.parent.name
    return None


def to_markdown(
    costs: Sequence[MilpCost],
    benchmark: str,
    seconds: float,
    policy: str = "mpc_free",
    days: int | None = None,
) -> str:
    """The table (and how it was made) as Markdown."""
    budget = f"up to {seconds:g} s" + ("" if days is None else f" or {days} days")
    lines = [
        f"`{policy}` on one copy of {benchmark}'s first evaluation seed, {budget} "
        f"per scenario; a `tuned_{policy}` cell's CPU time estimated as its solves times the "
        "mean solve, beside the wall time of a stored cell run on as many tuning and "
        "evaluation seeds (one cell per process).",
        "",
        "| Scenario | Stores | Days measured | Mean solve [s] | Slowest [s] "
        "| Solves per cell | Cell estimate [CPU-h] | Stored cell [h] (benchmark) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in costs:
        stored = (
            "–" if c.stored_cell_hours is None else f"{c.stored_cell_hours:.2f} ({c.stored_in})"
        )
        lines.append(
            f"| {c.scenario} | {c.stores} | {c.days_measured} of {c.episode_days} "
            f"| {c.mean_solve:.2f} | {c.slowest_solve:.2f} | {c.cell_solves:,} "
            f"| {c.cell_cpu_hours:.2f} | {stored} |"
        )
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m hmarl_bench.speed.mpc",
        description=(
            "Measure the rolling-horizon MILP's solve time on each scenario (mpc_free on one "
            "copy of the benchmark's first evaluation seed, for a time budget) and estimate "
            "the CPU time of a tuned_mpc_free benchmark cell there."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("scenarios", nargs="+", help="scenario names or TOML paths")
    parser.add_argument(
        "--benchmark",
        default="frontier",
        help="benchmark whose seeds count the solves of a cell (and give the seed measured)",
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="time budget per scenario (then it stops)"
    )
    parser.add_argument(
        "--policy",
        choices=sorted(POLICIES),
        default="mpc_free",
        help="the exact MILP (mpc_free) or the faster variant (mpc_fast_free)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=None,
        help="also stop after this many simulated days (the same days for every policy)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        help="folder of benchmark results searched for stored tuned_mpc_free cells",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("results/speed/mpc"), help="folder for mpc.csv/.md"
    )
    add_readme_argument(parser, README_KEY, "docs/results/frontier_mpc.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; a file that cannot be written (a full disk) is one line, status 1
    (every output is written atomically: earlier files stay intact)."""
    return main_writing_atomically(_main, argv)


def _main(argv: Sequence[str] | None = None) -> int:
    from hmarl_bench.harness.readme import replace_marked
    from hmarl_bench.harness.spec import BenchmarkError, load_benchmark

    parser = _parser()
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        parser.error(f"--seconds must be a positive number of seconds, got {args.seconds}")
    if args.days is not None and args.days < 1:
        parser.error(f"--days must be >= 1, got {args.days}")
    try:
        spec = load_benchmark(args.benchmark)
    except BenchmarkError as err:
        parser.error(f"--benchmark: {err}")
    scenarios = []
    for name in args.scenarios:
        try:
            scenarios.append(load_scenario(name))
        except ScenarioError as err:
            parser.error(str(err))
        if scenarios[-1].n_skus > 1:
            parser.error(f"{name}: the rolling-horizon MILP models one SKU")
    check_outputs(parser, args.out, args.readme, README_KEY)
    costs = []
    seeds = spec.evaluation_seeds
    for sc in scenarios:
        print(f"  measuring {sc.name} (up to {args.seconds:g} s) ...", file=sys.stderr, flush=True)
        cost = measure(
            sc, args.seconds, seeds[0], len(spec.tuning_seeds), len(seeds), args.policy, args.days
        )
        stored = stored_cell(
            args.results,
            sc.name,
            f"tuned_{args.policy}",
            seeds=(len(spec.tuning_seeds), len(seeds)),
        )
        if stored is not None:
            cost = replace(cost, stored_cell_hours=stored[0], stored_in=stored[1])
        costs.append(cost)
    write_atomic(args.out / "mpc.csv", pd.DataFrame([asdict(c) for c in costs]).to_csv(index=False))
    table = to_markdown(costs, spec.name, args.seconds, args.policy, args.days)
    write_atomic(args.out / "mpc.md", table)
    print(table, end="")
    print(f"wrote {args.out / 'mpc.csv'} and {args.out / 'mpc.md'}")
    if args.readme is not None:
        replace_marked(args.readme, README_KEY, table)
        print(f"{args.readme}: table copied between <!-- {README_KEY} --> markers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
