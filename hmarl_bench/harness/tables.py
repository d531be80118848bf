"""Tables for write-ups: CSV (raw numbers), Markdown and LaTeX (booktabs), in one folder.

- ``headline``: scenario x policy, eight columns: total cost mean [95% CI], the worst
  episode, fill rate, the paired difference to the reference [95% CI] with its verdict,
  and the decision time per chain-day. The lowest mean cost of a scenario (the bound
  aside) is in bold. Every interval is the hierarchical bootstrap of
  :mod:`hmarl_bench.harness.stats` (docs/statistics.md).
- ``headline_full``: the same rows with every column: also IQM, lost sales, store and
  warehouse inventory, gap to the clairvoyant bound, normalized score, the paired
  difference to the best rule on the store actions with its verdict, the share of the
  reference's gap to the bound closed, and the probabilities of improvement.
- ``reference_choice``: every baseline's mean total cost on the tuning seeds, and which
  one each scenario's reference (and best rule on the store actions) is.
- ``per_seed``: the long table, one row per (scenario, policy, training seed, episode).
- ``summary.csv``: every KPI's n, mean, std, CIs and IQM (long form).
- ``time_to_reference``: for learners whose learning curve records wall seconds (HDPO),
  per training seed: the training time, and the seconds until the validation cost first
  came within 1% of the reference's mean cost on the same validation episodes (the rule
  replayed on them, :mod:`hmarl_bench.harness.replay`; where it is not replayed, a MILP
  rule, its tuning cost stands in, unpaired).
- ``learning_curves.csv`` and ``clairvoyant_solves.csv`` when there are any.

The LaTeX files are ``tabular`` (headline) and ``longtable`` (per seed) bodies that need
``\\usepackage{booktabs}`` (and ``longtable``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hmarl_bench.evaluation import KPI_COLUMNS
from hmarl_bench.harness.cells import write_atomic

__all__ = [
    "FULL_COLUMNS",
    "HEADLINE_COLUMNS",
    "format_headline",
    "reference_choice",
    "signed_ci",
    "time_to_reference",
    "to_latex",
    "to_markdown",
    "write_tables",
]


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[pd.Series], float | str]
    fmt: str = "{:,.0f}"


def _ci(row: pd.Series) -> str:
    mean, low, high = row["total_cost_mean"], row["total_cost_ci_low"], row["total_cost_ci_high"]
    if any(not math.isfinite(v) for v in (low, high)):
        return f"{mean:,.0f}"
    return f"{mean:,.0f} [{low:,.0f}, {high:,.0f}]"


def signed_ci(mean: float, low: float, high: float, fmt: str = "{:+,.0f}") -> str | None:
    """``+1,234 [+500, +2,000]``; None without a value, the mean alone without a CI."""
    if mean is None or not math.isfinite(mean):
        return None

    def text(value: float) -> str:
        return "0" if value == 0 else fmt.format(value)

    if not (math.isfinite(low) and math.isfinite(high)):
        return text(mean)
    return f"{text(mean)} [{text(low)}, {text(high)}]"


def _diff(suffix: str) -> Callable[[pd.Series], str | None]:
    prefix = f"diff_to{suffix}_reference"

    def value(row: pd.Series) -> str | None:
        if f"{prefix}_mean" not in row:
            return None
        return signed_ci(row[f"{prefix}_mean"], row[f"{prefix}_ci_low"], row[f"{prefix}_ci_high"])

    return value


def _gap_closed(row: pd.Series) -> str | None:
    if "gap_closed" not in row:
        return None
    return signed_ci(
        row["gap_closed"], row["gap_closed_ci_low"], row["gap_closed_ci_high"], "{:.2f}"
    )


def _decide_ms(row: pd.Series) -> float:
    return row.get("decide_ms_per_chain_day", math.nan)


_TOTAL_COST = Column("Total cost [95% CI] (currency/episode)", _ci, "{}")
_WORST = Column("Worst episode", lambda r: r.get("total_cost_worst", math.nan))
_DIFF = Column("Paired difference to the reference [95% CI]", _diff(""), "{}")
_VERDICT = Column("vs reference", lambda r: r.get("verdict"), "{}")
_DECIDE = Column("Decision time (ms/chain-day)", _decide_ms, "{:,.3g}")
_FILL_RATE = Column("Fill rate (%)", lambda r: 100 * r.get("fill_rate_mean", math.nan), "{:.1f}")

#: The headline table's columns (8): what a reader compares first. Every other number is
#: in the wide table (:data:`FULL_COLUMNS`, ``headline_full.md``) and ``headline.csv``.
HEADLINE_COLUMNS = (
    Column("Scenario", lambda r: r["scenario"], "{}"),
    Column("Policy", lambda r: r["policy"], "{}"),
    _TOTAL_COST,
    _WORST,
    _FILL_RATE,
    _DIFF,
    _VERDICT,
    _DECIDE,
)

#: The wide table's columns: title (with units), value of a headline row, format.
FULL_COLUMNS = (
    Column("Scenario", lambda r: r["scenario"], "{}"),
    Column("Policy", lambda r: r["policy"], "{}"),
    _TOTAL_COST,
    Column("IQM cost", lambda r: r["total_cost_iqm"]),
    _WORST,
    _FILL_RATE,
    Column("Lost sales (units)", lambda r: r["lost_sales_mean"], "{:,.1f}"),
    Column("Mean store inventory (units)", lambda r: r["mean_store_inventory_mean"]),
    Column("Mean warehouse inventory (units)", lambda r: r["mean_warehouse_inventory_mean"]),
    Column("Gap to bound (%)", lambda r: r["gap_to_bound_pct"], "{:.1f}"),
    Column("Normalized score", lambda r: r["normalized_score"], "{:.2f}"),
    _DIFF,
    _VERDICT,
    Column("Share of the reference's gap to the bound closed [95% CI]", _gap_closed, "{}"),
    Column("Paired difference to the best on store actions [95% CI]", _diff("_actions"), "{}"),
    Column("vs best on store actions", lambda r: r.get("verdict_actions"), "{}"),
    Column("P(better than the reference)", lambda r: r["p_improvement"], "{:.2f}"),
    Column("P(better than best on store actions)", lambda r: r["p_improvement_actions"], "{:.2f}"),
    _DECIDE,
)

_PER_SEED_COLUMNS = ("scenario", "policy", "kind", "training_seed", "seed", *KPI_COLUMNS)


def _text(value: object, fmt: str) -> str | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return fmt.format(value)


def _references_note(headline: pd.DataFrame) -> str:
    """Each scenario's reference and best rule on the store actions, with the tuning-seed
    mean that chose them."""
    lines = []
    for scenario, rows in headline.groupby("scenario", sort=False):
        first = rows.iloc[0]
        parts = []
        for suffix, label in (("", "reference"), ("_actions", "best on store actions")):
            name = first.get(f"best{suffix}_baseline")
            cost = first.get(f"best{suffix}_baseline_tuning_cost", math.nan)
            if isinstance(name, str):
                parts.append(f"{label} `{name}` ({cost:,.0f} on the tuning seeds)")
        if parts:
            lines.append(f"- {scenario}: " + "; ".join(parts))
    if not lines:
        return ""
    return (
        "\nReferences, chosen by mean total cost on the tuning seeds (never on the evaluation "
        "episodes; see `reference_choice.md`):\n" + "\n".join(lines) + "\n"
    )


def reference_choice(tuning: pd.DataFrame, headline: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and baseline: mean total cost on the tuning seeds, its rank, and
    whether it is the reference / the best rule on the store actions."""
    if tuning is None or tuning.empty:
        return pd.DataFrame()
    table = (
        tuning.groupby(["scenario", "policy"], sort=False)["total_cost"]
        .agg(tuning_cost="mean", n_tuning_seeds="size")
        .reset_index()
    )
    table["rank"] = table.groupby("scenario")["tuning_cost"].rank(method="first").astype(int)
    chosen = headline.groupby("scenario", sort=False)[["best_baseline", "best_actions_baseline"]]
    first = chosen.first()
    table["reference"] = table["policy"] == table["scenario"].map(first["best_baseline"])
    table["best_on_store_actions"] = table["policy"] == table["scenario"].map(
        first["best_actions_baseline"]
    )
    return table.sort_values(["scenario", "rank"], kind="stable").reset_index(drop=True)


#: How close to the reference's cost counts as reaching it in ``time_to_reference``.
WITHIN_REFERENCE = 0.01


def time_to_reference(
    curves: pd.DataFrame,
    choice: pd.DataFrame,
    validation_costs: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Per scenario, learner and training seed whose curve has ``seconds``: the last
    point's seconds (the training time), the reference, its mean cost on the tuning seeds
    and (``validation_costs``: scenario -> the reference's mean cost on the validation seeds,
    :func:`hmarl_bench.harness.replay.validation_costs`) on the validation seeds, the best
    validation cost, and the seconds at the first point whose validation cost is within
    :data:`WITHIN_REFERENCE` of the reference's cost on the same validation episodes
    (``paired``), or of its tuning cost where the reference was not replayed (NaN: never)."""
    needed = {"seconds", "mean_total_cost", "scenario", "policy", "training_seed"}
    if curves is None or choice is None or choice.empty or not needed <= set(curves.columns):
        return pd.DataFrame()
    validation_costs = validation_costs or {}
    timed = curves.dropna(subset=["seconds", "mean_total_cost"])
    references = choice[choice["reference"]].set_index("scenario")
    rows = []
    for (scenario, policy, seed), curve in timed.groupby(
        ["scenario", "policy", "training_seed"], sort=False
    ):
        if scenario not in references.index:
            continue
        reference = references.loc[scenario]
        on_validation = validation_costs.get(scenario, math.nan)
        paired = not math.isnan(on_validation)
        cost = on_validation if paired else float(reference["tuning_cost"])
        reached = curve[curve["mean_total_cost"] <= (1 + WITHIN_REFERENCE) * cost]["seconds"]
        rows.append(
            {
                "scenario": scenario,
                "policy": policy,
                "training_seed": seed,
                "train_seconds": float(curve["seconds"].max()),
                "reference": reference["policy"],
                "reference_tuning_cost": float(reference["tuning_cost"]),
                "reference_validation_cost": on_validation,
                "paired": paired,
                "best_validation_cost": float(curve["mean_total_cost"].min()),
                "seconds_to_within_1pct": float(reached.min()) if len(reached) else math.nan,
            }
        )
    return pd.DataFrame(rows)


def _time_to_reference_markdown(table: pd.DataFrame) -> str:
    titles = [
        "Scenario",
        "Learner",
        "Training seed",
        "Training time (s)",
        "Reference",
        "Its mean cost on the validation seeds",
        "Best validation cost",
        "Seconds to within 1% of the reference",
    ]
    cells = []
    for _, r in table.iterrows():
        reached = r["seconds_to_within_1pct"]
        if r["paired"]:
            cost = f"{r['reference_validation_cost']:,.0f}"
        else:
            cost = f"not replayed (tuning seeds: {r['reference_tuning_cost']:,.0f})"
        cells.append(
            [
                r["scenario"],
                r["policy"],
                str(r["training_seed"]),
                f"{r['train_seconds']:,.0f}",
                r["reference"],
                cost,
                f"{r['best_validation_cost']:,.0f}",
                "not reached" if math.isnan(reached) else f"{reached:,.0f}",
            ]
        )
    note = (
        "\nTraining time: wall seconds of the cell's training (its last learning-curve point). "
        "Seconds to within 1%: the first validation score (the learner's mean cost on the "
        "validation seeds) at most 1% above the reference's mean cost on the same validation "
        "episodes (the reference rule rebuilt from its cell's parameters and scored on them "
        "when the tables are made). Where a reference is not replayed (a MILP rule), its mean "
        "cost on the tuning seeds stands in: two estimates on different episodes, an "
        "indication of speed only. The best validation cost is that of the checkpoint chosen "
        "on these episodes, so it flatters the learner; the paired verdict is the headline's, "
        "on the evaluation episodes.\n"
    )
    return to_markdown(titles, cells) + note


def _reference_choice_markdown(table: pd.DataFrame) -> str:
    titles = ["Scenario", "Baseline", "Mean total cost on the tuning seeds", "Rank", "Chosen as"]
    cells = []
    for _, r in table.iterrows():
        flags = {"reference": r["reference"], "best on store actions": r["best_on_store_actions"]}
        roles = ", ".join(name for name, flag in flags.items() if flag) or None
        cost = f"{r['tuning_cost']:,.0f}"
        cells.append([r["scenario"], r["policy"], cost, str(r["rank"]), roles])
    return to_markdown(titles, cells)


def format_headline(
    headline: pd.DataFrame, columns: tuple[Column, ...] = HEADLINE_COLUMNS
) -> tuple[list[str], list[list[str | None]], list[int]]:
    """(titles, cells as text (None = missing), indices of each scenario's best row)."""
    titles = [c.title for c in columns]
    cells = [[_text(c.value(row), c.fmt) for c in columns] for _, row in headline.iterrows()]
    policies = headline[headline["kind"] != "clairvoyant"]
    best = policies.groupby("scenario", sort=False)["total_cost_mean"].idxmin()
    return titles, cells, [int(i) for i in best.dropna()]


def to_markdown(
    titles: list[str],
    cells: list[list[str | None]],
    bold_rows: list[int] = (),
    bold_col: int = 2,
    n_labels: int = 2,
) -> str:
    """A GitHub-flavoured Markdown table; text columns left, numbers right-aligned."""

    def cell(text: str | None, i: int, j: int) -> str:
        text = "–" if text is None else text.replace("|", "\\|")
        return f"**{text}**" if i in bold_rows and j == bold_col else text

    numeric = [j >= n_labels for j in range(len(titles))]
    lines = ["| " + " | ".join(titles) + " |"]
    lines.append("|" + "|".join("---:" if n else ":---" for n in numeric) + "|")
    lines += [
        "| " + " | ".join(cell(t, i, j) for j, t in enumerate(r)) + " |"
        for i, r in enumerate(cells)
    ]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(
    titles: list[str],
    cells: list[list[str | None]],
    bold_rows: list[int] = (),
    bold_col: int = 2,
    group_col: int | None = 0,
    longtable: bool = False,
    caption: str = "",
) -> str:
    """A booktabs table (``\\toprule``, ``\\midrule``, ``\\bottomrule``); a ``\\midrule``
    separates groups of ``group_col``, whose value is printed on its first row only."""
    align = "".join("l" if j < 2 else "r" for j in range(len(titles)))
    header = " & ".join(latex_escape(t) for t in titles) + r" \\"
    env = "longtable" if longtable else "tabular"
    lines = [
        f"% Generated by hmarl_bench.benchmark. {caption}".rstrip(),
        "% Needs \\usepackage{" + ("booktabs,longtable" if longtable else "booktabs") + "}.",
        f"\\begin{{{env}}}{{{align}}}",
        r"\toprule",
        header,
        r"\midrule",
    ]
    if longtable:
        lines += [r"\endhead", r"\bottomrule", r"\endfoot"]
    previous = None
    for i, row in enumerate(cells):
        texts = ["--" if t is None else latex_escape(t) for t in row]
        if i in bold_rows:
            texts[bold_col] = f"\\textbf{{{texts[bold_col]}}}"
        if group_col is not None:
            if previous is not None and row[group_col] != previous:
                lines.append(r"\midrule")
            if row[group_col] == previous:
                texts[group_col] = ""
            previous = row[group_col]
        lines.append(" & ".join(texts) + r" \\")
    if not longtable:
        lines.append(r"\bottomrule")
    lines.append(f"\\end{{{env}}}")
    return "\n".join(lines) + "\n"


def _per_seed_cells(per_seed: pd.DataFrame) -> tuple[list[str], list[list[str | None]]]:
    fmts = {
        "fill_rate": "{:.4f}",
        "mean_store_inventory": "{:,.1f}",
        "store_reward": "{:,.1f}",
        "mean_warehouse_inventory": "{:,.1f}",
        "lost_sales": "{:,.0f}",
    }
    columns = [c for c in _PER_SEED_COLUMNS if c in per_seed]
    cells = []
    for _, row in per_seed[columns].iterrows():
        texts = []
        for c in columns:
            value = row[c]
            if c == "training_seed":
                texts.append(None if pd.isna(value) else str(int(value)))
            elif c in ("scenario", "policy", "kind", "seed"):
                texts.append(str(value))
            else:
                texts.append(
                    _text(float(value), fmts.get(c, "{:,.0f}")) if pd.notna(value) else None
                )
        cells.append(texts)
    return columns, cells


def _bound_note(solves: pd.DataFrame | None) -> str:
    """Solve times of the clairvoyant MILPs, and whether some stopped before optimality."""
    if solves is None or "status" not in solves or not len(solves):
        return ""
    seconds = pd.to_numeric(solves.get("solve_seconds"), errors="coerce")
    timing = ""
    if seconds is not None and seconds.notna().any():
        timing = (
            f" Solve time per episode (HiGHS): median {seconds.median():.1f} s, "
            f"max {seconds.max():.1f} s over {int(seconds.notna().sum())} episodes."
        )
    stopped = solves[~solves["status"].astype(str).str.startswith("optimal")]
    if not len(stopped):
        return f"\nClairvoyant bound: every MILP solved to optimality.{timing}\n"
    gap = pd.to_numeric(stopped.get("mip_gap"), errors="coerce").max()
    return (
        f"\nClairvoyant bound: {len(stopped)} of {len(solves)} MILPs stopped at the time limit "
        f"(largest relative MIP gap {100 * gap:.1f}%); there the bound is the solver's dual "
        f"bound: a valid but looser lower bound that depends on the machine's speed.{timing}\n"
    )


_HEADLINE_NOTE = (
    "\nTotal cost = holding + lost-sales penalty + ordering over the episode after warm-up; "
    "mean over evaluation episodes (learners: over training seeds x episodes) with a 95% "
    "hierarchical bootstrap CI (learners: training seeds, then episodes; rules: episodes); "
    "worst episode = the costliest single episode; IQM = interquartile mean. Gap and "
    "normalized score (0 = random, 1 = clairvoyant bound) use mean costs. The reference "
    "is the baseline with the lowest mean total cost on the tuning seeds; the best on "
    "store actions is chosen the same way among the baselines acting through the "
    "store's four actions (not *_free). Paired difference = policy minus reference on "
    "the same evaluation episodes (common random numbers), mean [95% CI of the same "
    "hierarchical bootstrap, the same episodes drawn for both]; vs = beats (CI below 0), "
    "ties (CI contains 0) or loses (CI above 0). Share of the gap closed = (reference - "
    "policy) / (reference - bound): 1 = reaches the bound, 0 = no better than the "
    "reference. P = probability that the policy's cost is below the reference's on the "
    "same episode (ties 1/2). Decision time = wall milliseconds of the controller's "
    "decisions per chain and day on the machine that ran the cell (– where the cell did "
    "not measure it). Bold: lowest mean cost of the scenario. See docs/statistics.md; "
    "every column is in headline_full.md and headline.csv.\n"
)


def _write(path: Path, text: str) -> Path:
    write_atomic(path, text.encode("utf-8"))
    return path


def write_tables(
    out_dir: Path,
    headline: pd.DataFrame,
    per_seed: pd.DataFrame,
    summary: pd.DataFrame,
    curves: pd.DataFrame | None = None,
    solves: pd.DataFrame | None = None,
    title: str = "",
    tuning: pd.DataFrame | None = None,
    partial: str = "",
    validation_costs: Mapping[str, float] | None = None,
) -> list[Path]:
    """Write every table into ``out_dir``; returns the files written. ``partial`` (what
    is missing, for tables made with ``--allow-missing``) heads every Markdown table;
    ``validation_costs`` are the references' costs on the validation seeds
    (:func:`time_to_reference`)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        _write(out_dir / "headline.csv", headline.to_csv(index=False)),
        _write(out_dir / "per_seed.csv", per_seed.to_csv(index=False)),
        _write(out_dir / "summary.csv", summary.to_csv(index=False)),
    ]
    titles, cells, best = format_headline(headline)
    note = _HEADLINE_NOTE
    note += _references_note(headline)
    note += _bound_note(solves)
    heading = f"# {title}\n\n" if title else ""
    heading += f"> **Partial results, not for comparison**: {partial}\n\n" if partial else ""
    written.append(
        _write(out_dir / "headline.md", heading + to_markdown(titles, cells, best) + note)
    )
    written.append(_write(out_dir / "headline.tex", to_latex(titles, cells, best, caption=title)))
    titles, cells, best = format_headline(headline, FULL_COLUMNS)
    full = heading + to_markdown(titles, cells, best) + note
    written.append(_write(out_dir / "headline_full.md", full))
    tex = to_latex(titles, cells, best, caption=title)
    written.append(_write(out_dir / "headline_full.tex", tex))
    columns, seed_cells = _per_seed_cells(per_seed)
    written.append(
        _write(out_dir / "per_seed.md", heading + to_markdown(columns, seed_cells, n_labels=3))
    )
    written.append(
        _write(
            out_dir / "per_seed.tex",
            to_latex(
                [c.replace("_", " ") for c in columns], seed_cells, longtable=True, caption=title
            ),
        )
    )
    choice = reference_choice(tuning, headline)
    if len(choice):
        written.append(_write(out_dir / "reference_choice.csv", choice.to_csv(index=False)))
        text = heading + _reference_choice_markdown(choice)
        written.append(_write(out_dir / "reference_choice.md", text))
        timing = time_to_reference(curves, choice, validation_costs)
        if len(timing):
            written.append(_write(out_dir / "time_to_reference.csv", timing.to_csv(index=False)))
            text = heading + _time_to_reference_markdown(timing)
            written.append(_write(out_dir / "time_to_reference.md", text))
    if curves is not None and len(curves):
        written.append(_write(out_dir / "learning_curves.csv", curves.to_csv(index=False)))
    if solves is not None and len(solves):
        written.append(_write(out_dir / "clairvoyant_solves.csv", solves.to_csv(index=False)))
    return written
