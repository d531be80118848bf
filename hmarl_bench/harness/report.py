"""A benchmark's report: statistics, tables and figures from its stored cells.

:func:`collect` gathers every stored, current cell result of a benchmark into tidy frames;
:func:`write_report` turns them into ``tables/`` and ``figures/``. Everything it writes is
a function of the stored cells and the config alone (seeded bootstraps, seeded jitter,
figures without timestamps), so remaking a report from the same cells gives the same
bytes: ``--only-tables`` on a clean clone leaves ``git status`` clean.

Tables come only from complete, current cells (:func:`check_cells`): a missing, stale,
corrupt, failed or incomplete cell stops the report with one line naming it and the command
that recomputes it, rather than tables that quietly leave a policy out (or switch the
reference to another rule, or blank every normalized score when ``random`` is gone).
``allow_missing`` (``--allow-missing``) tabulates the current cells and marks the tables
partial, in ``headline.md`` and ``manifest.json``; never with a baseline missing, since the
reference is chosen among all of a scenario's baselines.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hmarl_bench.evaluation import DECIDE_MS, KPI_COLUMNS
from hmarl_bench.harness.cells import BASELINE, LEARNER, CellStatus, CellStore, build_cells
from hmarl_bench.harness.manifest import config_label, mark_partial
from hmarl_bench.harness.spec import BenchmarkSpec

__all__ = [
    "BenchmarkData",
    "IncompleteResults",
    "check_cells",
    "collect",
    "key_columns",
    "not_current",
    "recompute_command",
    "write_report",
]


class IncompleteResults(RuntimeError):
    """Tables would not be of complete, current cells: a cell is missing, stale, corrupt,
    failed or stored without what the report needs (baselines' tuning-seed scores)."""


@dataclass
class BenchmarkData:
    """Every stored result of a benchmark, as tidy frames."""

    per_seed: pd.DataFrame
    curves: pd.DataFrame
    solves: pd.DataFrame
    traces: dict[tuple, dict] = field(default_factory=dict)
    transfers: pd.DataFrame = field(default_factory=pd.DataFrame)  # generalization runs
    tuning: pd.DataFrame = field(default_factory=pd.DataFrame)  # baselines on tuning seeds
    timing: pd.DataFrame = field(default_factory=pd.DataFrame)  # decision ms per cell
    #: (scenario, baseline) -> the parameters its tuning chose (None: untuned)
    rule_params: dict[tuple[str, str], Any] = field(default_factory=dict)


def key_columns() -> list[str]:
    return ["scenario", "policy", "kind", "training_seed"]


def _numeric(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def collect(
    spec: BenchmarkSpec, root: Path, leave_out: frozenset[tuple[str, str]] = frozenset()
) -> BenchmarkData:
    """Gather the stored results of ``spec``'s cells (in cell order) from ``root``, but those
    of the (scenario, policy) pairs in ``leave_out``."""
    from hmarl_bench.harness.transfer import transfers_frame

    rows, curves, solves, traces, tuning, timing = [], [], [], {}, [], []
    rule_params: dict[tuple[str, str], Any] = {}
    results = [
        r
        for r in CellStore(root).results(build_cells(spec))
        if (r["scenario"], r["policy"]) not in leave_out
    ]
    for result in results:
        key = {
            "scenario": result["scenario"],
            "policy": result["policy"],
            "kind": result["kind"],
            "training_seed": result["training_seed"],
        }
        rows += [{**key, **row} for row in result["rows"]]
        timing.append({**key, DECIDE_MS: result["info"].get(DECIDE_MS)})  # None: not measured
        curves += [{**key, **row} for row in result.get("learning_curve", [])]
        solves += [{"scenario": result["scenario"], **s} for s in result["info"].get("solves", [])]
        if result["kind"] == BASELINE:
            tuning += [{**key, **row} for row in result["info"].get("tuning_rows", [])]
            rule_params[(result["scenario"], result["policy"])] = result["info"].get("tuned_params")
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
        _numeric(pd.DataFrame(timing, columns=[*key_columns(), DECIDE_MS]), [DECIDE_MS]),
        rule_params,
    )


def _names(cells: list) -> str:
    return ", ".join(c.cell_id for c in cells[:5]) + (", ..." if len(cells) > 5 else "")


def recompute_command(spec: BenchmarkSpec, root: Path) -> str:
    """The command that computes ``spec``'s missing, stale, corrupt or failed cells under
    ``root`` (a plain run: it skips the current cells and runs the others)."""
    config = config_label(spec.source) or spec.name
    if spec.source and Path(config).name == config:  # a config outside the project
        config = str(spec.source)
    out = root.parent
    return f"python -m hmarl_bench.benchmark {config}" + (
        "" if out == Path("results") else f" --out {out}"
    )


def _describe(status: CellStatus, store: CellStore) -> str:
    """``default__random is failed (see cells/default__random.error.json)`` and the like."""
    cell = status.cell
    if status.state == "failed":
        why = f"see {store.error_path(cell)}"
    elif status.state == "incomplete":
        why = f"{status.reason}: no scores on the tuning seeds, where the reference is chosen"
    else:
        why = status.reason
    if len(why) > 120:  # a long list of edited modules: --status has all of it
        why = why[:100].rsplit(" ", 1)[0] + " ...; --status lists all"
    return f"cell {cell.cell_id} is {status.state}" + (f" ({why})" if why else "")


def not_current(spec: BenchmarkSpec, root: Path) -> list[CellStatus]:
    """The status of each of ``spec``'s cells under ``root`` that is not current."""
    store = CellStore(root)
    return [s for s in (store.status(c) for c in build_cells(spec)) if s.state != "current"]


def incomplete_learners(bad: list[CellStatus]) -> frozenset[tuple[str, str]]:
    """The (scenario, learner) pairs with a training seed among the cells ``bad`` (not
    current): partial tables leave them out whole, since a verdict over some of the
    configured seeds is not the benchmark's verdict (its CI would resample fewer seeds than
    the config asks)."""
    return frozenset((s.cell.scenario, s.cell.policy) for s in bad if s.cell.kind == LEARNER)


def check_cells(
    spec: BenchmarkSpec,
    root: Path,
    allow_missing: bool = False,
    bad: list[CellStatus] | None = None,
) -> str:
    """Refuse tables from anything but complete, current cells (one line naming the first
    cell that is not, and the command that recomputes it).

    With ``allow_missing`` the tables are made from the current cells and marked partial:
    returns that mark (empty when every cell is current). Even then a scenario's baseline
    must be current: the reference (the best rule on the tuning seeds) is chosen among all
    of them, and choosing it among the rest would switch it silently.
    """
    store = CellStore(root)
    bad = not_current(spec, root) if bad is None else bad  # given: read the cells once
    if not bad:
        return ""
    command = recompute_command(spec, root)
    if not allow_missing:
        more = f" (and {len(bad) - 1} more not current)" if len(bad) > 1 else ""
        raise IncompleteResults(
            f"{_describe(bad[0], store)}{more}: no tables from incomplete results; recompute "
            f"with: {command} (or add --allow-missing for partial tables)"
        )
    references = [s for s in bad if s.cell.kind == BASELINE]
    if references:
        raise IncompleteResults(
            f"{_describe(references[0], store)}: the reference of scenario "
            f"'{references[0].cell.scenario}' is chosen among all its baselines, so even "
            f"partial tables need it; recompute with: {command}"
        )
    states = sorted({s.state for s in bad})
    mark = (  # stored in the tables and manifest: no paths (the command may name --out)
        f"{len(bad)} of {len(build_cells(spec))} cells not current "
        f"({', '.join(states)}: {_names([s.cell for s in bad])}); a learner is left out of a "
        "scenario until all its training seeds are current there"
    )
    print(f"warning: partial results: {mark}; complete with: {command}", file=sys.stderr)
    return mark


def write_report(
    spec: BenchmarkSpec, root: Path, figures: bool = True, allow_missing: bool = False
) -> list[Path]:
    """Statistics, tables and figures from every stored cell; returns the files written.

    Raises :class:`IncompleteResults` when a cell is missing, stale, corrupt, failed or
    incomplete (:func:`check_cells`); with ``allow_missing``, tables of the current cells
    marked partial (in ``headline.md`` and ``manifest.json``).
    """
    from hmarl_bench.harness import stats, tables

    bad = not_current(spec, root)
    partial = check_cells(spec, root, allow_missing, bad)
    data = collect(spec, root, incomplete_learners(bad) if partial else frozenset())
    if data.per_seed.empty:
        return []
    mark_partial(root, partial)
    options = {
        "n_resamples": spec.n_resamples,
        "confidence_level": spec.confidence_level,
        "seed": spec.bootstrap_seed,
    }
    summary = stats.summarize(data.per_seed, **options)
    headline = stats.headline(
        data.per_seed, summary, **options, tuning=data.tuning, timing=data.timing
    )
    title = f"Benchmark '{spec.name}'" + (f": {spec.description}" if spec.description else "")
    validation = _reference_validation_costs(spec, data, headline)
    paths = tables.write_tables(
        root / "tables",
        headline,
        data.per_seed,
        summary,
        data.curves,
        data.solves,
        title,
        tuning=data.tuning,
        partial=partial,
        validation_costs=validation,
    )
    from hmarl_bench.harness import aggregate

    combined = aggregate.aggregate(data.per_seed, headline, **options)
    paths += aggregate.write_aggregate(root / "tables", combined, title)
    if figures and not combined.table.empty:
        paths += _aggregate_figures(root / "figures", combined, headline)
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


def _reference_validation_costs(
    spec: BenchmarkSpec, data: BenchmarkData, headline: pd.DataFrame
) -> dict[str, float]:
    """The references' mean costs on the validation seeds, for the scenarios with a timed
    learning curve (``time_to_reference``): replayed (:mod:`hmarl_bench.harness.replay`)."""
    curves = data.curves
    if curves.empty or "seconds" not in curves.columns or "best_baseline" not in headline:
        return {}
    timed = set(curves.dropna(subset=["seconds"])["scenario"])
    references = {
        scenario: name
        for scenario, name in headline.groupby("scenario", sort=False)["best_baseline"]
        .first()
        .items()
        if scenario in timed and isinstance(name, str)
    }
    from hmarl_bench.harness.replay import validation_costs

    return validation_costs(
        references,
        data.rule_params,
        data.per_seed,
        spec.validation_seeds,
        spec.baseline_seed,
    )


def _aggregate_figures(out_dir: Path, combined, headline: pd.DataFrame) -> list[Path]:
    """``aggregate.png/.pdf`` (and ``_1col``) in the figures' style."""
    from hmarl_bench.harness.plots.aggregate import aggregate_figure
    from hmarl_bench.harness.plots.style import WIDTHS, policy_styles, save, set_style

    styles, paths = policy_styles(headline), []
    for suffix, width in WIDTHS.items():
        set_style(width)
        fig = aggregate_figure(combined.table, combined.profile, styles, width)
        paths += save(fig, out_dir, "aggregate" + suffix)
    return paths
