"""A benchmark's report: statistics, tables and figures from its stored cells.

:func:`collect` gathers every stored, current cell result of a benchmark into tidy frames;
:func:`write_report` turns them into ``tables/`` and ``figures/``. Everything it writes is
a function of the stored cells and the config alone (seeded bootstraps, seeded jitter,
figures without timestamps), so remaking a report from the same cells gives the same
bytes: ``--only-tables`` on a clean clone leaves ``git status`` clean.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hmarl_bench.evaluation import KPI_COLUMNS
from hmarl_bench.harness.cells import BASELINE, CellStore, build_cells
from hmarl_bench.harness.spec import BenchmarkSpec

__all__ = ["BenchmarkData", "IncompleteResults", "collect", "key_columns", "write_report"]


class IncompleteResults(RuntimeError):
    """Stored cells lack what the report needs (e.g. baselines' tuning-seed scores)."""


@dataclass
class BenchmarkData:
    """Every stored result of a benchmark, as tidy frames."""

    per_seed: pd.DataFrame
    curves: pd.DataFrame
    solves: pd.DataFrame
    traces: dict[tuple, dict] = field(default_factory=dict)
    transfers: pd.DataFrame = field(default_factory=pd.DataFrame)  # generalization runs
    tuning: pd.DataFrame = field(default_factory=pd.DataFrame)  # baselines on tuning seeds


def key_columns() -> list[str]:
    return ["scenario", "policy", "kind", "training_seed"]


def _numeric(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def collect(spec: BenchmarkSpec, root: Path) -> BenchmarkData:
    """Gather the stored results of ``spec``'s cells (in cell order) from ``root``."""
    from hmarl_bench.harness.hier_cells import transfers_frame

    rows, curves, solves, traces, tuning = [], [], [], {}, []
    results = CellStore(root).results(build_cells(spec))
    for result in results:
        key = {
            "scenario": result["scenario"],
            "policy": result["policy"],
            "kind": result["kind"],
            "training_seed": result["training_seed"],
        }
        rows += [{**key, **row} for row in result["rows"]]
        curves += [{**key, **row} for row in result.get("learning_curve", [])]
        solves += [{"scenario": result["scenario"], **s} for s in result["info"].get("solves", [])]
        if result["kind"] == BASELINE:
            tuning += [{**key, **row} for row in result["info"].get("tuning_rows", [])]
        if result.get("trace"):
            traces[(result["scenario"], result["policy"], result["training_seed"])] = result[
                "trace"
            ]
    columns = [*key_columns(), "seed", *KPI_COLUMNS]
    per_seed = _numeric(pd.DataFrame(rows, columns=columns), list(KPI_COLUMNS))
    per_seed["training_seed"] = per_seed["training_seed"].astype("Int64")
    tuning_frame = _numeric(pd.DataFrame(tuning, columns=columns), list(KPI_COLUMNS))
    return BenchmarkData(
        per_seed,
        pd.DataFrame(curves),
        pd.DataFrame(solves),
        traces,
        transfers_frame(results),
        tuning_frame.drop(columns="training_seed"),
    )


def _names(cells: list) -> str:
    return ", ".join(c.cell_id for c in cells[:5]) + (", ..." if len(cells) > 5 else "")


def _check_cells(spec: BenchmarkSpec, root: Path) -> None:
    """Warn about stale cells (left out); refuse incomplete ones (no silent fallback)."""
    store, cells = CellStore(root), build_cells(spec)
    stale = store.stale(cells)
    if stale:
        print(
            f"warning: {len(stale)} stored cell(s) were computed under another configuration "
            f"and are left out of the tables ({_names(stale)}); run the benchmark without "
            "--only-tables to recompute them",
            file=sys.stderr,
        )
    incomplete = store.incomplete(cells)
    if incomplete:
        raise IncompleteResults(
            f"{len(incomplete)} stored baseline cell(s) under {store.cells_dir} have no "
            f"scores on the tuning seeds ({_names(incomplete)}): they were stored before the "
            "reference (the best rule) was chosen on the tuning seeds, and choosing it on "
            "the evaluation seeds instead would be biased. Run the benchmark without "
            "--only-tables: it recomputes only these cells."
        )


def write_report(spec: BenchmarkSpec, root: Path, figures: bool = True) -> list[Path]:
    """Statistics, tables and figures from every stored cell; returns the files written.

    Raises :class:`IncompleteResults` when stored cells lack what the report needs.
    """
    from hmarl_bench.harness import stats, tables

    _check_cells(spec, root)
    data = collect(spec, root)
    if data.per_seed.empty:
        return []
    options = {
        "n_resamples": spec.n_resamples,
        "confidence_level": spec.confidence_level,
        "seed": spec.bootstrap_seed,
    }
    summary = stats.summarize(data.per_seed, **options)
    headline = stats.headline(data.per_seed, summary, **options, tuning=data.tuning)
    title = f"Benchmark '{spec.name}'" + (f": {spec.description}" if spec.description else "")
    paths = tables.write_tables(
        root / "tables",
        headline,
        data.per_seed,
        summary,
        data.curves,
        data.solves,
        title,
        tuning=data.tuning,
    )
    if figures:
        from hmarl_bench.harness import manifest, plots

        manifest.record_plotting(root, plots.plotting_versions())
        paths += plots.plot_all(
            root / "figures",
            headline,
            data.per_seed,
            data.curves,
            data.traces,
            spec.bootstrap_seed,
            learned_roles={a.policy: a.learners for a in spec.algos},
        )
    if spec.generalization_from and len(data.transfers):
        from hmarl_bench.harness import generalization

        table = generalization.generalization_table(
            data.transfers, data.per_seed, headline, **options
        )
        figures_dir = root / "figures" if figures else None
        paths += generalization.write_generalization(root / "tables", table, figures_dir, headline)
    return paths
