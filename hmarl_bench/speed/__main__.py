"""``python -m hmarl_bench.speed``: run every measurement, print tables, write results.

Writes ``speed.csv`` (every row), ``speed.txt`` (the printed tables) and ``scaling.png`` /
``scaling.pdf`` to ``--out`` (``results/speed`` by default). ``--quickstart`` instead times
the README's quick-start command and writes ``quickstart.txt``
(:mod:`hmarl_bench.speed.quickstart`).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hmarl_bench._atomic import write_atomic
from hmarl_bench.cli_parser import OneLineParser, check_outputs, main_writing_atomically
from hmarl_bench.speed.benches import bench_env, bench_scaling, bench_train, bench_twin, bench_vec
from hmarl_bench.speed.measure import Measurement
from hmarl_bench.speed.quickstart import QUICKSTART_ARGS, time_quickstart
from hmarl_bench.speed.quickstart import README_KEY as QUICKSTART_KEY
from hmarl_bench.speed.quickstart import readme_block as quickstart_block
from hmarl_bench.speed.quickstart import write as write_quickstart
from hmarl_bench.speed.report import README_KEY, plot_scaling, print_tables, readme_block
from hmarl_bench.speed.torch_twin import bench_torch_twin

#: The scaling grid, copies x stores x SKUs.
DEFAULT_SIZES = "1,16,256,1024x2,10,100x1,3"
QUICK_SIZES = "1,16x2,10x1,3"


def _parse_sizes(text: str) -> tuple[list[int], list[int], list[int]]:
    """``COPIES x STORES [x SKUS]``, each a comma-separated list (SKUs default to 1)."""
    parts = text.split("x")
    try:
        parsed = [[int(v) for v in part.split(",")] for part in parts]
    except ValueError:
        parsed = []
    if len(parsed) == 2:
        parsed.append([1])
    if len(parsed) != 3 or min(min(p) for p in parsed) < 1:
        raise argparse.ArgumentTypeError(
            f"expected COPIES x STORES x SKUS like 1,16x2,10x1,3, got {text!r}"
        )
    return parsed[0], parsed[1], parsed[2]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers like 1,64, got {text!r}"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m hmarl_bench.speed",
        description=(
            "Throughput of the digital twin, HMARLEnvironment, SharedPolicyVecEnv and (with "
            "--train) PPO training, each beside Gymnasium's CartPole-v1 measured in the same "
            "run, with targets marked PASS/FAIL; then a table and figure of how the twin's "
            "step cost grows with copies x stores x SKUs. Rates are the best of several "
            "alternating windows; on a loaded machine compare rows of one run, not runs."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help="time budget of each measurement (ours and each reference)",
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="also measure PPO training on SharedPolicyVecEnv vs CartPole-v1",
    )
    parser.add_argument(
        "--tuning",
        action="store_true",
        help="also measure tuning (e): candidate-episodes/s of one batched pass and of a "
        "whole search (target: >= 10,000 on two processes), beside one evaluate() per "
        "candidate",
    )
    parser.add_argument(
        "--only-tuning",
        action="store_true",
        help="measure tuning (e) only (about a minute), not (a)-(d) and scaling",
    )
    parser.add_argument(
        "--tuning-workers",
        type=_positive,
        default=2,
        help="processes of the tuning measurement",
    )
    parser.add_argument("--scenario", default="default", help="scenario of (a)-(e)")
    parser.add_argument(
        "--sku-scenario",
        default="multi_sku",
        help="a several-SKU scenario also measured in (a) and (b) ('' to skip)",
    )
    parser.add_argument(
        "--copies",
        type=_ints,
        default=[1, 64, 1024],
        help="copies B of the batched twin measurements (b)",
    )
    parser.add_argument(
        "--vec-copies",
        type=_ints,
        default=[16, 256],
        help="copies of SharedPolicyVecEnv (c); slots = copies x stores",
    )
    parser.add_argument(
        "--torch-copies",
        type=_positive,
        default=128,
        help="copies of the torch twin measurement (f): HDPO's forward and backward pass "
        "through whole episodes beside the numpy twin (--quick: 16)",
    )
    parser.add_argument(
        "--sizes",
        type=_parse_sizes,
        default=None,
        help="scaling grid COPIES x STORES x SKUS, each comma-separated (chains built "
        "from 'default' with S stores selling K SKUs of equal demand shares); "
        f"default {DEFAULT_SIZES} (--quick: {QUICK_SIZES})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/speed"),
        help="directory for speed.csv, speed.txt and scaling.png/.pdf",
    )
    parser.add_argument(
        "--readme",
        type=Path,
        default=None,
        metavar="PAGE",
        help="also copy speed.txt into this Markdown file (docs/speed.md; with --quickstart, "
        "quickstart.txt into README.md), between the markers "
        f"<!-- {README_KEY} --> and <!-- /{README_KEY} -->",
    )
    parser.add_argument(
        "--quickstart",
        action="store_true",
        help="only time the README's quick-start command (python -m hmarl_bench.run --algo "
        "ppo, a few minutes) and write quickstart.txt; with --readme, copy it between "
        f"<!-- {QUICKSTART_KEY} --> and <!-- /{QUICKSTART_KEY} -->",
    )
    parser.add_argument(
        "--run-args",
        default="",
        help="with --quickstart: extra arguments for the timed run (e.g. a smaller "
        "--timesteps); they are printed with the command timed",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few seconds in all: 0.2 s per measurement, small sizes and "
        "a tiny PPO (n_steps 32, batch 64, 2 epochs) with --train",
    )
    return parser


def _quickstart(args: argparse.Namespace) -> int:
    from hmarl_bench.harness.readme import replace_marked

    print(f"timing python -m hmarl_bench.run {' '.join(QUICKSTART_ARGS)} ...")
    try:
        result = time_quickstart(shlex.split(args.run_args))
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    path = write_quickstart(result, args.out)
    print(result.text())
    print(f"wrote {path}")
    if args.readme is not None:
        replace_marked(args.readme, QUICKSTART_KEY, quickstart_block(args.out))
        print(f"{args.readme}: quick-start timing copied from {path}")
    return 0


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every input checked before minutes of measuring (one line and exit status 2)."""
    from hmarl_bench.config import ScenarioError, load_scenario

    if args.run_args and not args.quickstart:
        parser.error("--run-args is for --quickstart")
    if not (args.seconds > 0 and math.isfinite(args.seconds)):
        parser.error(f"--seconds must be a positive number of seconds, got {args.seconds}")
    for flag, values in (("--copies", args.copies), ("--vec-copies", args.vec_copies)):
        if not values or min(values) < 1:
            parser.error(f"{flag} must be whole numbers >= 1, got {values}")
    for flag, name in (("--scenario", args.scenario), ("--sku-scenario", args.sku_scenario)):
        if flag == "--sku-scenario" and not name:
            continue
        try:
            load_scenario(name)
        except ScenarioError as err:
            parser.error(f"{flag}: {err}")
    key = QUICKSTART_KEY if args.quickstart else README_KEY
    check_outputs(parser, args.out, args.readme, key)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; a file that cannot be written (a full disk) is one line, status 1
    (every output is written atomically: earlier files stay intact)."""
    return main_writing_atomically(_main, argv)


def _main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    if args.quickstart:
        return _quickstart(args)
    seconds, overrides = args.seconds, None
    sizes = args.sizes or _parse_sizes(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if args.quick:
        seconds = min(seconds, 0.2)
        args.copies, args.vec_copies, args.torch_copies = [1, 64], [4], 16
        overrides = {"n_steps": 32, "batch_size": 64, "n_epochs": 2}
    args.out.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    notes = [
        f"{platform.python_implementation()} {platform.python_version()}, numpy "
        f"{np.__version__}, {os.cpu_count()} CPUs, load average at start {load[0]:.2f}; "
        f"{seconds:g} s per measurement.",
        "Timings are noisy on a shared CPU: ratios against the reference measured in the "
        "same run are the robust figures.",
    ]
    rows: list[Measurement] = []

    def progress(label: str) -> None:
        print(f"  measuring {label} ...", flush=True)

    if not args.only_tuning:
        rows.extend(_core_sections(args, seconds, overrides, sizes, progress))
    if args.tuning or args.only_tuning:
        from hmarl_bench.speed.tuning import bench_tuning

        progress(f"tuning on {args.tuning_workers} processes")
        budget = 2_000 if args.quick else 100_000
        rows.extend(bench_tuning(args.scenario, seconds, args.tuning_workers, budget))
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    notes.append(f"Load average at the end {load[0]:.2f}.")
    import pandas as pd

    write_atomic(args.out / "speed.csv", pd.DataFrame([r.row() for r in rows]).to_csv(index=False))
    figures = plot_scaling(rows, args.out) if any(r.section == "scaling" for r in rows) else []
    notes.append(f"Wrote {', '.join(str(p) for p in [args.out / 'speed.csv', *figures])}.")
    text = print_tables(rows, notes)
    write_atomic(args.out / "speed.txt", text + "\n")
    if args.readme is not None:
        from hmarl_bench.harness.readme import replace_marked

        replace_marked(args.readme, README_KEY, readme_block(args.out))
        print(f"{args.readme}: speed results copied from {args.out / 'speed.txt'}")
    return 0


def _core_sections(args, seconds, overrides, sizes, progress) -> list[Measurement]:
    """(a)-(d) and the scaling grid."""
    copies, stores, skus = sizes
    rows: list[Measurement] = []
    scenarios = [args.scenario] + ([args.sku_scenario] if args.sku_scenario else [])
    for scenario in scenarios:
        progress(f"HMARLEnvironment {scenario}")
        rows.extend(bench_env(scenario, seconds))
    for scenario in scenarios:
        for b in args.copies:
            progress(f"twin {scenario} B={b}")
            rows.extend(bench_twin(scenario, b, seconds))
    for b in args.vec_copies:
        progress(f"SharedPolicyVecEnv B={b}")
        rows.append(bench_vec(args.scenario, b, seconds))
    progress(f"torch twin B={args.torch_copies}")
    rows.extend(bench_torch_twin(args.scenario, args.torch_copies, seconds))
    if args.train:
        progress("PPO training")
        rows.append(bench_train(args.scenario, None, seconds, overrides))
    progress(f"scaling B in {copies} x S in {stores} x K in {skus}")
    rows.extend(bench_scaling(copies, stores, skus, seconds))
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
