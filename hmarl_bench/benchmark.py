"""Run a benchmark: ``python -m hmarl_bench.benchmark experiments/benchmarks/smoke.toml``.

The config (see :mod:`hmarl_bench.harness.spec`) becomes cells (learners: scenario x algo x
training seed; baselines: scenario x baseline; the bound: scenario x clairvoyant). Cells not
yet stored under ``<out>/<benchmark>/cells/`` run on the chosen executor; each result is
stored atomically as it arrives, failures go to ``<cell-id>.error.json`` (and run again next
time), and a rerun skips what is stored. Then statistics, tables
(``<out>/<benchmark>/tables/``) and figures (``<out>/<benchmark>/figures/``) are made from
all stored cells. ``--only-tables`` remakes tables and figures without running anything;
``--recompute`` runs every cell again, stored or not (what "regenerate everything" means
in a clone, where the committed cells would otherwise make a run a no-op).

Reproducible artefacts: tables and figures are functions of the stored cells (seeded
bootstraps and jitter, figures without timestamps), and ``manifest.json`` changes only
when cells run, so rerunning a finished benchmark or ``--only-tables`` leaves the results
folder byte for byte as it was. A run's own facts (times, paths, executor) go to
``run_log.json``, which git ignores.

``--reuse-from DIR ...`` copies, instead of running, every missing cell that another
benchmark's results folder holds under the same fingerprint (:mod:`hmarl_bench.harness.reuse`:
the fingerprint covers the cell's values, the code it runs and the libraries, so the copy is
the result the cell would compute).

``--status`` runs nothing and lists every cell as current, stale (and why: its values,
the code it runs, or the libraries changed), incomplete, missing, failed or corrupt; it
exits 1 when any cell is not current (so CI can gate on it), else 0. With ``--reuse-from``
it also marks the cells a run would copy and leaves them out of its estimate.

Tables come only from complete, current cells (:func:`hmarl_bench.harness.report.check_cells`):
otherwise ``--only-tables``, or the table step of a run in which cells failed, stops with
one line naming the cell and the command that recomputes it. ``--allow-missing`` makes
tables of the current cells marked partial (``tables/*.md``, ``manifest.json``).

Exit status: 0 when every cell is stored and tabulated, 1 when some failed or are not
current (no tables then, unless ``--allow-missing``), 2 for a bad config or arguments (an unwritable
``--out``, a ``--readme`` without the benchmark's markers: both checked before any cell
runs), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from tqdm.auto import tqdm

from hmarl_bench.cli_parser import OneLineParser
from hmarl_bench.harness import manifest
from hmarl_bench.harness.cells import LEARNER, Cell, CellOutcome, CellStore, build_cells
from hmarl_bench.harness.executors import EXECUTORS, CellExecutor, make_executor
from hmarl_bench.harness.report import BenchmarkData, IncompleteResults, collect, write_report
from hmarl_bench.harness.reuse import reusable, reuse_cells
from hmarl_bench.harness.spec import BenchmarkError, BenchmarkSpec, load_benchmark
from hmarl_bench.harness.units import SPLIT_MODES, TUNE, plan_units, run_split, splits

__all__ = [
    "BenchmarkData",
    "IncompleteResults",
    "RunSummary",
    "collect",
    "main",
    "run_benchmark",
    "write_report",
]


@dataclass
class RunSummary:
    """What a run did: cells in all, skipped (already stored), run, failed; outputs."""

    root: Path
    n_cells: int
    n_skipped: int
    n_ran: int
    failed: list[str]
    seconds: float
    outputs: list[Path] = field(default_factory=list)
    n_reused: int = 0  # of the skipped cells, those copied from --reuse-from folders
    tables_error: str = ""  # why no tables were made (a cell not current), if so
    n_selected: int | None = None  # cells that ``only`` selected (None: every cell)


def select_cells(cells: Sequence[Cell], only: Sequence[str]) -> list[Cell]:
    """The cells whose id (``SCENARIO__POLICY[__seedN]``) matches one of the shell-style
    patterns ``only`` (every cell when it is empty); a pattern that matches none is refused
    with a BenchmarkError that shows what ids look like."""
    if not only:
        return list(cells)
    for pattern in only:
        if not any(fnmatch.fnmatchcase(c.cell_id, pattern) for c in cells):
            examples = ", ".join(c.cell_id for c in list(cells)[:3])
            raise BenchmarkError(
                "--only",
                f"{pattern!r} matches no cell of this benchmark (cell ids look like "
                f"{examples}; patterns use * and ?, e.g. '*__hdpo__*' or 'lean_start__*')",
            )
    return [c for c in cells if any(fnmatch.fnmatchcase(c.cell_id, p) for p in only)]


def _check_hyperparams(spec: BenchmarkSpec) -> None:
    """Fail early on bad hyperparameter overrides of the built-in SB3 learners (or a
    minibatch larger than a rollout on some scenario): before the cells' fingerprints are
    computed, and without importing torch, so the error comes within a second. Every
    learner, a user's too, is checked again by :func:`_check_learners` before cells run."""
    if not spec.algos:
        return
    from hmarl_bench.config import load_scenario
    from hmarl_bench.learn.budget import check_batch_size, role_slots
    from hmarl_bench.learn.hyperparam_keys import (
        check_role_algo,
        hyperparams_file,
        learner_names,
        load_hyperparams,
    )

    scenarios = [load_scenario(name) for name in spec.scenarios]
    for i, algo in enumerate(spec.algos):
        if algo.learner not in ("stores", "rounds"):  # residual, HDPO, a user's: their check
            continue
        try:
            for role in learner_names(list(algo.learners)):  # torch-free: errors come fast
                check_role_algo(role, algo.name)
                interface = dict(algo.hyperparam_overrides).get("interface", "seed")
                path = hyperparams_file(role, algo.name, interface)
                params = load_hyperparams(algo.name, algo.hyperparam_overrides, path)
                n_envs = int(algo.n_envs or params["n_envs"])
                for scenario in scenarios:
                    check_batch_size(params, role_slots(role, scenario.n_slots, n_envs))
        except ValueError as err:
            raise BenchmarkError(f"algos[{i}].hyperparams", str(err), spec.source) from None


def _check_learners(spec: BenchmarkSpec, cells: Sequence[Cell]) -> None:
    """Fail early, in one line, on a learner that cannot be imported or has no ``train``,
    and on what its ``check(task)`` refuses (bad hyperparameter overrides, a minibatch
    larger than a rollout on some scenario), rather than in every learner cell."""
    from hmarl_bench.config import load_scenario
    from hmarl_bench.harness.runners import learner_task
    from hmarl_bench.learn.registry import LearnerError, resolve_learner

    index = {algo.policy: i for i, algo in enumerate(spec.algos)}
    checked: set[tuple[str, str]] = set()
    for cell in cells:
        if cell.kind != LEARNER or (cell.policy, cell.scenario) in checked:
            continue
        checked.add((cell.policy, cell.scenario))
        key = f"algos[{index.get(cell.policy, 0)}]"
        try:
            learner = resolve_learner(cell.learner)
        except LearnerError as err:
            raise BenchmarkError(f"{key}.learner", str(err), spec.source) from None
        check = getattr(learner, "check", None)
        if not callable(check):
            continue
        try:
            check(learner_task(cell, load_scenario(cell.scenario)))
        except ValueError as err:
            raise BenchmarkError(f"{key}.hyperparams", str(err), spec.source) from None


#: Seconds between redraws of the progress bar while cells run, so that its elapsed time
#: keeps moving through hour-long cells (the MILP's) instead of looking stuck.
HEARTBEAT_SECONDS = 10.0


@contextmanager
def _heartbeat(bar: tqdm, seconds: float) -> Iterator[None]:
    """Redraw ``bar`` every ``seconds`` from a daemon thread until the block ends."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(seconds):
            bar.refresh()

    thread = threading.Thread(target=beat, name="progress-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_benchmark(
    spec: BenchmarkSpec,
    out_dir: Path | str = "results",
    executor: str | CellExecutor = "local",
    workers: int = 1,
    address: str | None = None,
    progress: bool = True,
    figures: bool = True,
    recompute: bool = False,
    reuse_from: Sequence[Path] = (),
    allow_missing: bool = False,
    split: str = "milp",
    only: Sequence[str] = (),
) -> RunSummary:
    """Run the cells not yet stored (every cell with ``recompute``), then write the report
    from every stored cell. Without ``recompute``, missing cells stored under the same
    fingerprint in a ``reuse_from`` results folder are copied instead of run. ``only``
    (shell-style patterns of cell ids, :func:`select_cells`) limits what runs to the cells
    it matches; the report still reads every stored cell.

    ``manifest.json`` is rewritten only when cells run; this run's facts go to the
    ignored ``run_log.json``. When a cell failed (or is otherwise not current) no tables
    are made (``tables_error`` says why) unless ``allow_missing``: then partial ones.
    ``split`` says which baseline cells run as separate
    episodes (:mod:`hmarl_bench.harness.units`; ``milp``: the MILP baselines).
    """
    start = time.perf_counter()
    started_at = manifest.now()
    root = Path(out_dir) / spec.name
    _check_hyperparams(spec)
    store = CellStore(root)
    cells = select_cells(build_cells(spec), only)
    todo = list(cells) if recompute else [c for c in cells if not store.is_done(c)]
    reused = [] if recompute else reuse_cells(todo, store, reuse_from)
    if reused:
        copied = {c.cell_id for c in reused}  # by id: a learner cell holds dicts, unhashable
        todo = [c for c in todo if c.cell_id not in copied]
        print(f"{spec.name}: reused {len(reused)} cells stored under the same fingerprints in "
              f"{', '.join(str(p) for p in reuse_from)}")  # fmt: skip
    runner = make_executor(executor, workers, address) if isinstance(executor, str) else executor
    _check_learners(spec, todo)
    if todo or reused or not (root / manifest.MANIFEST).is_file():
        manifest.write_manifest(spec, root)
    failed: list[str] = []
    bar = tqdm(
        total=len(cells),
        initial=len(cells) - len(todo),
        desc=f"{spec.name}: cells",
        unit="cell",
        disable=not progress,
        dynamic_ncols=True,
        postfix=f"{len(todo)} to run" if todo else None,
    )

    left = len(todo)

    def on_outcome(outcome: CellOutcome) -> None:
        nonlocal left
        path = store.write(outcome)
        left -= 1
        bar.update(1)
        if outcome.ok:
            last = f"{outcome.cell.cell_id} {outcome.seconds:.0f}s"
            bar.set_postfix_str(f"{left} to run; last {last}" if left else last)
        else:
            failed.append(outcome.cell.cell_id)
            tqdm.write(f"cell {outcome.cell.cell_id} failed: {outcome.error} (see {path})")

    try:
        with _heartbeat(bar, HEARTBEAT_SECONDS) if progress and todo else nullcontext():
            run_split(runner, todo, store, on_outcome, split)
    finally:
        bar.close()
        manifest.write_run_log(
            root,
            {
                "benchmark": spec.name,
                "config": str(Path(spec.source).resolve()) if spec.source else None,
                "out": str(root.resolve()),
                "started_at": started_at,
                "finished_at": manifest.now(),
                "seconds": time.perf_counter() - start,
                "executor": executor if isinstance(executor, str) else type(executor).__name__,
                "workers": workers,
                "address": address,
                "split": split,
                "recompute": recompute,
                "only": list(only),
                "cells": len(cells),
                "ran": [c.cell_id for c in todo],
                "reused": [c.cell_id for c in reused],
                "failed": failed,
            },
        )
    tables_error = ""
    try:
        outputs = write_report(spec, root, figures, allow_missing)
    except IncompleteResults as err:
        outputs, tables_error = [], str(err)
    seconds = time.perf_counter() - start
    skipped = len(cells) - len(todo)
    return RunSummary(
        root,
        len(cells),
        skipped,
        len(todo),
        failed,
        seconds,
        outputs,
        len(reused),
        tables_error,
        len(cells) if only else None,
    )


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m hmarl_bench.benchmark",
        description=(
            "Run a benchmark (learners, baselines and the clairvoyant bound on held-out "
            "evaluation seeds) and write its tables and figures. Finished cells are stored "
            "under OUT/<benchmark>/cells and skipped on the next run, so an interrupted or "
            "partly failed run resumes where it stopped; a cell whose values, code or "
            "libraries changed is stale and runs again (--status says which and why). "
            "Learner budgets are rounded up to whole PPO rollouts (n_steps x slots); each "
            "learner cell records timesteps_requested and timesteps in its info."
        ),
        epilog=(
            "examples:\n"
            "  python -m hmarl_bench.benchmark experiments/benchmarks/smoke.toml\n"
            "  python -m hmarl_bench.benchmark default --workers 2\n"
            "  python -m hmarl_bench.benchmark default --executor ray --address auto\n"
            "  python -m hmarl_bench.benchmark default --only-tables\n"
            "  python -m hmarl_bench.benchmark frontier --only '*__hdpo__*' --workers 2\n"
            "  python -m hmarl_bench.benchmark default --recompute --workers 2"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "config", help="a benchmark .toml file, or a name in experiments/benchmarks (e.g. smoke)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="cells run at once (default 1: in this process; local: a process pool; "
        "ray: CPUs of the local Ray instance)",
    )
    parser.add_argument(
        "--executor", choices=sorted(EXECUTORS), default="local", help="where cells run"
    )
    parser.add_argument(
        "--address",
        default=None,
        help="Ray cluster to join (e.g. 'auto' or 'ray://host:10001'); default: start a "
        "local instance. Every node needs hmarl_bench installed.",
    )
    parser.add_argument(
        "--split",
        choices=SPLIT_MODES,
        default="milp",
        help="baseline cells that run as separate episodes (units, stored as they finish "
        "under cells/<cell-id>.units/, so a killed run resumes mid-cell and one cell uses "
        "every worker): milp (default: the MILP baselines), all (every untuned or "
        "grid-tuned rule) or none",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("results"), help="results folder (default: results)"
    )
    parser.add_argument(
        "--only-tables",
        action="store_true",
        help="run nothing: remake tables and figures from the stored cells",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="PATTERN",
        help="run only the cells whose id (SCENARIO__POLICY or SCENARIO__POLICY__seedN, as "
        "--status lists them) matches one of these shell-style patterns, e.g. '*__hdpo__*' "
        "or 'lean_start__*' (quote them); with --status, list only those. Tables are remade "
        "when every cell of the benchmark is current (else: --only-tables --allow-missing)",
    )
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="run every cell again, even those stored under the current configuration "
        "(regenerates a benchmark whose cells are committed); stored cells are replaced "
        "one by one as their new results arrive",
    )
    parser.add_argument(
        "--reuse-from",
        type=Path,
        nargs="+",
        default=[],
        metavar="DIR",
        help="results folders of other benchmarks (e.g. results/hierarchy): a missing cell "
        "stored there under the same fingerprint (same values, code and libraries) is copied "
        "instead of run (with --status: which cells would be copied)",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="make tables even when some cells are missing, stale, corrupt or failed: from "
        "the current cells only, marked partial in tables/*.md and manifest.json (without "
        "it such tables are refused; a missing baseline is refused even with it, since the "
        "reference is chosen among all baselines)",
    )
    parser.add_argument("--no-figures", action="store_true", help="write tables only")
    parser.add_argument(
        "--readme",
        type=Path,
        default=None,
        metavar="PAGE",
        help="also write the benchmark's tables into this Markdown file: the headline "
        "between <!-- benchmark:NAME:headline --> and <!-- /benchmark:NAME:headline --> "
        "(the benchmark's page, docs/results/NAME.md), the short summary between "
        "<!-- benchmark:NAME:summary --> and <!-- /benchmark:NAME:summary --> (README.md); "
        "every block whose markers the file holds, links relative to it",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument(
        "--status",
        action="store_true",
        help="run nothing: list each cell that is not current (stale, and why: values, code "
        "or libraries changed; incomplete, missing, failed or corrupt), the counts, and the "
        "CPU-hours the rest may take (from stored cells' times); exit status 0 when every "
        "cell is current, 1 otherwise (for CI)",
    )
    return parser


def _check_readme(readme: Path | None, name: str) -> None:
    """Refuse a --readme that cannot take the benchmark's blocks, before hours of cells."""
    if readme is None:
        return
    from hmarl_bench.harness.readme import marker_keys

    try:
        text = readme.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BenchmarkError("--readme", f"cannot read {readme}: {err}") from None
    if not marker_keys(text, name):
        raise BenchmarkError(
            "--readme",
            f"{readme} has no '<!-- benchmark:{name}:headline -->' or "
            f"'<!-- benchmark:{name}:summary -->' ... block",
        )


def _check_out(root: Path) -> None:
    """Refuse a results folder that cannot be written, before any cell runs."""
    import tempfile

    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-"):
            pass
    except OSError as err:
        raise BenchmarkError("--out", f"cannot write results under {root}: {err}") from None


#: The cell fields that set how much work a cell does: a stored time counts for the
#: estimate only where they are what the cell asks for now.
WORK_FIELDS = (
    "evaluation_seeds",
    "tuning_seeds",
    "validation_seeds",
    "timesteps",
    "n_envs",
    "eval_freq",
    "transfer_scenarios",
    "tuning_budget",
)
#: Those fields' defaults, as JSON reads them: a field stored before it existed had its default.
_WORK_DEFAULTS = json.loads(
    json.dumps(
        {
            f.name: f.default
            for f in fields(Cell)
            if f.name in WORK_FIELDS and f.default is not MISSING
        }
    )
)


def _stored_seconds(store: CellStore, cell: Cell) -> tuple[float, bool] | None:
    """The wall seconds a stored result of ``cell`` took, whatever its fingerprint, and
    whether it did the work the cell asks for now (its :data:`WORK_FIELDS` as stored equal
    the cell's): a cell stored for 10 tuning seeds is only a rough guide to one for 30."""
    path = store.result_path(cell)
    try:
        stored = json.loads(path.read_text("utf-8"))
        seconds = stored.get("seconds")
        then = stored.get("cell")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return None
    if not isinstance(seconds, (int, float)) or seconds < 0:
        return None
    now = json.loads(json.dumps(asdict(cell)))  # tuples as lists, as stored
    same = isinstance(then, dict) and all(
        then.get(name, _WORK_DEFAULTS.get(name)) == now[name] for name in WORK_FIELDS
    )
    return float(seconds), same


def unit_progress(store: CellStore, cell: Cell) -> tuple[int, int] | None:
    """How many of a split cell's work units are stored under its current fingerprint
    (:mod:`hmarl_bench.harness.units`), and how many it runs in all (a grid-tuned rule:
    candidates x tuning seeds, then the evaluation seeds); None when none is. Reads only:
    a run, not ``--status``, deletes stale units."""
    folder = store.cells_dir / f"{cell.cell_id}.units"
    if not folder.is_dir() or not splits(cell, "all"):
        return None
    stored = 0
    for path in folder.glob("*.json"):
        try:
            stored += json.loads(path.read_text("utf-8")).get("fingerprint") == cell.fingerprint
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            continue
    first = plan_units(cell)
    total = len(first) + (len(cell.evaluation_seeds) if first[0].stage == TUNE else 0)
    return (stored, total) if stored else None


@dataclass(frozen=True)
class Estimate:
    """What :func:`estimate_seconds` found: the seconds, how many cells were estimated
    from stored cells that ran on other seeds or budgets (a rough guide), and how many
    had nothing to go by."""

    seconds: float
    rough: int
    unknown: int


def estimate_seconds(
    store: CellStore,
    cells: Sequence[Cell],
    todo: Sequence[Cell],
    done: dict[str, float] | None = None,
) -> Estimate:
    """How long the cells ``todo`` may take, one after another. For each, the first of: its
    own last stored time (a stale cell ran before) if it ran on the seeds and budget the
    cell asks for now; the mean time of its policy's stored cells that did, on the same
    scenario, else anywhere; then the same three from stored cells that ran on other seeds
    or budgets (counted as rough); else nothing (counted as unknown). ``done``: the share
    of a split cell's units already stored (cell id -> share), left out of its time."""
    done = done or {}
    times = {c.cell_id: _stored_seconds(store, c) for c in cells}
    # (scenario or None, policy, same work) -> stored seconds
    pools: dict[tuple[str | None, str, bool], list[float]] = {}
    for cell in cells:
        stored = times[cell.cell_id]
        if stored is not None:
            for scenario in (cell.scenario, None):
                pools.setdefault((scenario, cell.policy, stored[1]), []).append(stored[0])
    total, rough, unknown = 0.0, 0, 0
    for cell in todo:
        stored = times[cell.cell_id]
        candidates = [
            [stored[0]] if stored is not None and stored[1] else None,
            pools.get((cell.scenario, cell.policy, True)),
            pools.get((None, cell.policy, True)),
            [stored[0]] if stored is not None else None,
            pools.get((cell.scenario, cell.policy, False)),
            pools.get((None, cell.policy, False)),
        ]
        found = next(((i, pool) for i, pool in enumerate(candidates) if pool), None)
        if found is None:
            unknown += 1
            continue
        total += sum(found[1]) / len(found[1]) * (1.0 - done.get(cell.cell_id, 0.0))
        rough += found[0] >= 3
    return Estimate(total, rough, unknown)


def print_status(
    spec: BenchmarkSpec, root: Path, only: Sequence[str] = (), reuse_from: Sequence[Path] = ()
) -> int:
    """One line per cell that is not current, then the counts (``--status``; with ``only``,
    of the cells it selects) and an estimate of the time the others need; returns how many
    cells are not current. With ``reuse_from``, the cells a run with those ``--reuse-from``
    folders would copy are marked and left out of the estimate."""
    store = CellStore(root)
    counts: dict[str, int] = {}
    cells = select_cells(build_cells(spec), only)
    copies = reusable(cells, store, reuse_from) if reuse_from else {}
    todo, not_current, done = [], 0, {}
    for cell in cells:
        status = store.status(cell)
        counts[status.state] = counts.get(status.state, 0) + 1
        if status.state != "current":
            not_current += 1
            reason = f": {status.reason}" if status.reason else ""
            source = copies.get(cell.cell_id)
            if source is not None:
                reason += f" (current in {source}: --reuse-from copies it)"
            else:
                todo.append(cell)
                progress = unit_progress(store, cell)
                if progress is not None:
                    stored, total = progress
                    done[cell.cell_id] = stored / total
                    reason += f" ({stored} of {total} work units stored: a run resumes from them)"
            print(f"{status.state:8} {cell.cell_id}{reason}")
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    print(f"{spec.name}: {sum(counts.values())} cells under {root / 'cells'}: {summary}")
    if copies:
        folders = ", ".join(sorted({str(p) for p in copies.values()}))
        print(f"to copy: {len(copies)} cells current in {folders} (--reuse-from)")
    if todo:
        guess = estimate_seconds(store, cells, todo, done)
        hours = f"about {guess.seconds / 3600:.1f} CPU-hours" if guess.seconds else "no estimate"
        notes = ""
        if guess.rough:
            notes += (
                f"; {guess.rough} of them from cells stored for other seeds or budgets, "
                "a rough guide"
            )
        if guess.unknown:
            notes += f"; {guess.unknown} of them with no stored time to go by"
        print(
            f"to run: {len(todo)} cells, {hours} one cell per core (from the stored times "
            f"of the same cells or of their policies{notes})"
        )
    return not_current


def _sync(readme: Path | None, name: str, root: Path) -> None:
    from hmarl_bench.harness.readme import sync_markdown

    if readme is None or not (root / "tables" / "headline.csv").is_file():
        return
    for kind, changed in sync_markdown(readme, name, root).items():
        print(f"{readme}: {kind} of '{name}' {'updated' if changed else 'already current'}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    if args.address and args.executor != "ray":
        parser.error("--address needs --executor ray")
    if args.only_tables and args.recompute:
        parser.error("--only-tables runs nothing; --recompute runs every cell: choose one")
    if args.only and args.only_tables:
        parser.error("--only chooses cells to run; --only-tables runs nothing: choose one")
    if args.reuse_from and (args.recompute or args.only_tables):
        parser.error("--reuse-from fills missing cells of a run: not with --recompute "
                     "or --only-tables")  # fmt: skip
    for folder in args.reuse_from:
        if not (folder / "cells").is_dir():
            parser.error(f"--reuse-from {folder}: no cells folder there (give a benchmark's "
                         "results folder, e.g. results/hierarchy)")  # fmt: skip
    try:
        spec = load_benchmark(args.config)
        root = args.out / spec.name
        if args.status:
            return 1 if print_status(spec, root, args.only, args.reuse_from) else 0
        _check_readme(args.readme, spec.name)
        if args.only_tables:
            paths = write_report(spec, root, not args.no_figures, args.allow_missing)
            if not paths:
                print(f"error: no stored cells under {root / 'cells'}", file=sys.stderr)
                return 1
            print(f"wrote {len(paths)} files under {root}")
            _sync(args.readme, spec.name, root)
            return 0
        _check_out(root)
        summary = run_benchmark(
            spec,
            args.out,
            args.executor,
            args.workers,
            args.address,
            progress=not args.no_progress,
            figures=not args.no_figures,
            recompute=args.recompute,
            reuse_from=args.reuse_from,
            allow_missing=args.allow_missing,
            split=args.split,
            only=args.only,
        )
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except IncompleteResults as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # a full disk, a folder made read-only mid-run: files are atomic
        print(f"error: {err}; the results stored before are intact: fix it and run again "
              "(stored cells are skipped)", file=sys.stderr)  # fmt: skip
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: finished cells are stored; run again to resume", file=sys.stderr)
        return 130
    selected = "" if summary.n_selected is None else " selected by --only"
    print(
        f"{spec.name}: {summary.n_cells} cells{selected} ({summary.n_skipped} already stored"
        + (f", {summary.n_reused} of them reused" if summary.n_reused else "")
        + f", {summary.n_ran} run, {len(summary.failed)} failed) in {summary.seconds:.1f} s"
    )
    if summary.tables_error and summary.n_selected is not None and not summary.failed:
        # the cells asked for are done; the others' state is not this run's failure
        print(f"no tables: {summary.tables_error}")
        return 0
    if summary.tables_error:
        print(f"error: {summary.tables_error}", file=sys.stderr)
        return 1
    tables_dir = summary.root / "tables"
    if (tables_dir / "headline.md").is_file():
        print((tables_dir / "headline.md").read_text("utf-8"))
    print(f"tables: {tables_dir}")
    try:
        _sync(args.readme, spec.name, summary.root)
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: cannot update {args.readme}: {err}", file=sys.stderr)
        return 1
    if not args.no_figures:
        print(f"figures: {summary.root / 'figures'}")
    if summary.failed:
        print(f"failed cells (rerun to retry): {', '.join(summary.failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
