"""``python -m hmarl_bench.speed.split``: how one MILP cell's wall time falls with workers.

A rolling-horizon MILP cell runs as work units (:mod:`hmarl_bench.harness.units`: one grid
candidate on one tuning seed, then one evaluation seed each), so one cell can use every
worker it is given. This command runs the same cell once per ``--workers`` count, each time
from scratch in a temporary results folder with the local executor, and reports:

- ``wall``: the whole run, from the first unit handed out to the assembled cell stored
  (process start-up of the workers included);
- ``span``: the first unit's start to the last unit's finish (``info.units.span_seconds``);
- ``cpu``: the units' summed seconds (``info.units.cpu_seconds``, the cell's ``seconds``)
  and the slowest unit (``max_seconds``), so a cluster's speed-up can be read off:
  a run's wall time is at least ``cpu / workers`` and at least the slowest unit, plus the
  tuning stage's barrier (evaluation units start once every tuning unit is stored);
- the speed-up and efficiency against the first ``--workers`` count.

Every run must assemble the same cell to the unit (rows, tuned parameters, tuning table):
the command checks it and says so (it fails, status 1, if they differ).

The cell is ``--policy`` (a MILP baseline; default ``tuned_mpc_fast_free``) on one
``--scenario`` with the first ``--tuning-episodes`` tuning seeds and ``--episodes``
evaluation seeds of ``--benchmark``: a small cell by default, so that the measurement takes
minutes. Run it on an otherwise idle machine; the load average at the start and end is
printed beside the figures. Writes ``split.csv`` and ``split.md`` to ``--out``;
``--readme`` copies the table into a Markdown page between ``<!-- speed:split -->`` and
``<!-- /speed:split -->``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hmarl_bench._atomic import write_atomic
from hmarl_bench.cli_parser import (
    OneLineParser,
    add_readme_argument,
    check_outputs,
    main_writing_atomically,
)
from hmarl_bench.speed.measure import load_average

if TYPE_CHECKING:
    from hmarl_bench.harness.spec import BenchmarkSpec

__all__ = ["MILP_POLICIES", "README_KEY", "SplitRun", "main", "measure", "to_markdown"]

README_KEY = "speed:split"
#: The baselines whose cells split into units under the default ``--split milp``.
MILP_POLICIES = ("mpc_free", "tuned_mpc_free", "mpc_fast_free", "tuned_mpc_fast_free")
#: What must agree to the unit between runs with different workers.
_SAME = ("rows", "tuned_params", "tuning_rows", "policy")


@dataclass(frozen=True)
class SplitRun:
    """One run of the cell with ``workers`` local workers (module docstring); seconds."""

    workers: int
    units: int
    wall: float
    span: float
    cpu: float
    slowest_unit: float
    total_cost: float  # the cell's mean evaluation cost (the same in every run)


def small_spec(
    benchmark: str, scenario: str, policy: str, tuning_episodes: int, episodes: int
) -> BenchmarkSpec:
    """``benchmark``'s seeds cut to the first ``tuning_episodes`` tuning and ``episodes``
    evaluation seeds, with ``policy`` on ``scenario`` as its only cell."""
    from hmarl_bench.harness.spec import load_benchmark

    spec = load_benchmark(benchmark)
    if tuning_episodes > len(spec.tuning_seeds) or episodes > len(spec.evaluation_seeds):
        raise ValueError(
            f"{spec.name} has {len(spec.tuning_seeds)} tuning and "
            f"{len(spec.evaluation_seeds)} evaluation seeds; asked for {tuning_episodes} "
            f"and {episodes}"
        )
    return dataclasses.replace(
        spec,
        name=f"split_{spec.name}",
        scenarios=(scenario,),
        baselines=(policy,),
        algos=(),
        externals=(),
        clairvoyant=False,
        generalization_from=None,
        searched_baselines=(),
        tuning_seeds=spec.tuning_seeds[:tuning_episodes],
        evaluation_seeds=spec.evaluation_seeds[:episodes],
    )


def run_once(spec: BenchmarkSpec, workers: int) -> tuple[SplitRun, dict[str, Any]]:
    """Run ``spec``'s one cell from scratch with ``workers`` local workers, split into
    units; the measurement and the stored cell."""
    from hmarl_bench.harness.cells import CellStore, build_cells
    from hmarl_bench.harness.executors import make_executor
    from hmarl_bench.harness.units import run_split

    (cell,) = build_cells(spec)
    errors: list[str] = []

    def on_outcome(outcome: Any) -> None:
        if not outcome.ok:
            errors.append(str(outcome.error))
        store.write(outcome)

    with tempfile.TemporaryDirectory(prefix="hmarl_split_") as folder:
        store = CellStore(Path(folder) / spec.name)
        start = time.perf_counter()
        run_split(make_executor("local", workers), [cell], store, on_outcome, "milp")
        wall = time.perf_counter() - start
        if errors:
            raise RuntimeError(f"the cell failed with {workers} workers: {errors[0]}")
        result = store.load(cell)
    if result is None or "units" not in result.get("info", {}):
        raise RuntimeError(f"{cell.policy} did not run as units (is it a MILP baseline?)")
    units = result["info"]["units"]
    costs = [row["total_cost"] for row in result["rows"]]
    run = SplitRun(
        workers=workers,
        units=int(units["count"]),
        wall=wall,
        span=float(units["span_seconds"]),
        cpu=float(units["cpu_seconds"]),
        slowest_unit=float(units["max_seconds"]),
        total_cost=sum(costs) / len(costs),
    )
    return run, result


def measure(spec: BenchmarkSpec, workers: Sequence[int]) -> list[SplitRun]:
    """One :func:`run_once` per worker count; ``RuntimeError`` if the assembled cells differ."""
    runs, first = [], None
    for n in workers:
        print(f"  {n} worker(s) ...", file=sys.stderr, flush=True)
        run, result = run_once(spec, n)
        same = {k: json.dumps(result.get(k), sort_keys=True, default=str) for k in _SAME}
        if first is None:
            first = same
        elif same != first:
            diff = [k for k in _SAME if same[k] != first[k]]
            raise RuntimeError(
                f"the cell run with {n} workers differs from the run with {workers[0]} "
                f"in {', '.join(diff)}"
            )
        runs.append(run)
    return runs


def to_markdown(
    runs: Sequence[SplitRun], spec: BenchmarkSpec, command: str, load: tuple[float, float]
) -> str:
    """The table of ``split.md``: one row per worker count, speed-ups against the first."""
    (policy,), (scenario,) = spec.baselines, spec.scenarios
    base = runs[0]
    lines = [
        f"`{policy}` on `{scenario}`: {len(spec.tuning_seeds)} tuning and "
        f"{len(spec.evaluation_seeds)} evaluation episodes of `{spec.name[len('split_') :]}`'s "
        f"seeds, {base.units} work units, run from scratch once per worker count with the "
        "local executor; every run assembled the same cell to the unit "
        f"(mean evaluation cost {base.total_cost:,.1f}).",
        "",
        f"`{command}`; {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} at the start and "
        f"{load[1]:.2f} at the end.",
        "",
        "| Workers | Wall [s] | Units' span [s] | Units' CPU [s] | Slowest unit [s] "
        "| Speed-up (wall) | Efficiency |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        speedup = base.wall / r.wall
        efficiency = speedup * base.workers / r.workers
        lines.append(
            f"| {r.workers} | {r.wall:.1f} | {r.span:.1f} | {r.cpu:.1f} | {r.slowest_unit:.1f} "
            f"| {speedup:.2f}x | {efficiency:.0%} |"
        )
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m hmarl_bench.speed.split",
        description=(
            "Run one MILP benchmark cell, split into work units, once per worker count and "
            "report its wall time, the units' span and CPU seconds, and the speed-up."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--benchmark", default="frontier_mpc", help="benchmark whose seeds run")
    parser.add_argument("--scenario", default="default", help="scenario name or TOML path")
    parser.add_argument(
        "--policy", choices=MILP_POLICIES, default="tuned_mpc_fast_free", help="the MILP cell"
    )
    parser.add_argument(
        "--tuning-episodes", type=int, default=4, help="first N tuning seeds of the benchmark"
    )
    parser.add_argument(
        "--episodes", type=int, default=8, help="first N evaluation seeds of the benchmark"
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="worker counts, one run each (speed-ups against the first)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("results/speed/split"), help="folder for split.csv/.md"
    )
    add_readme_argument(parser, README_KEY, "docs/scale-out.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; a file that cannot be written is one line, status 1."""
    return main_writing_atomically(_main, argv)


def _main(argv: Sequence[str] | None = None) -> int:
    from hmarl_bench.config import ScenarioError, load_scenario
    from hmarl_bench.harness.readme import replace_marked
    from hmarl_bench.harness.spec import BenchmarkError

    parser = _parser()
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.workers):
        parser.error(f"--workers must be >= 1, got {args.workers}")
    if args.tuning_episodes < 1 or args.episodes < 1:
        parser.error("--tuning-episodes and --episodes must be >= 1")
    try:
        if load_scenario(args.scenario).n_skus > 1:
            parser.error(f"{args.scenario}: the rolling-horizon MILP models one SKU")
        spec = small_spec(
            args.benchmark, args.scenario, args.policy, args.tuning_episodes, args.episodes
        )
    except (ScenarioError, BenchmarkError, ValueError) as err:
        parser.error(str(err))
    check_outputs(parser, args.out, args.readme, README_KEY)
    command = shlex.join(["python", "-m", "hmarl_bench.speed.split", *(argv or sys.argv[1:])])
    load_start = load_average()
    try:
        runs = measure(spec, args.workers)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    table = to_markdown(runs, spec, command, (load_start, load_average()))
    frame = pd.DataFrame([dataclasses.asdict(r) for r in runs])
    write_atomic(args.out / "split.csv", frame.to_csv(index=False))
    write_atomic(args.out / "split.md", table)
    print(table, end="")
    print(f"wrote {args.out / 'split.csv'} and {args.out / 'split.md'}")
    if args.readme is not None:
        replace_marked(args.readme, README_KEY, table)
        print(f"{args.readme}: table copied between <!-- {README_KEY} --> markers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
