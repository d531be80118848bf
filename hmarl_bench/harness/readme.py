"""The README's result tables, made from a benchmark's committed ``tables/headline.csv``.

Numbers in the README are never typed by hand: ``python -m hmarl_bench.benchmark NAME
--only-tables --readme README.md`` writes :func:`readme_block` between the README's markers
``<!-- benchmark:NAME:headline -->`` and ``<!-- /benchmark:NAME:headline -->``, and a test
checks that the README still equals what the committed results give.

The block is a compact view of the headline: one row per scenario, the mean total cost
[95% CI] of every learner, of the seed's rule, of the best baseline on the store's own four
actions (the interface a learned store policy has), of the reference (the best baseline
overall, free order quantities included) and of the clairvoyant bound; then each
learner's paired difference of total cost to the best on store actions and to the
reference, on the same episodes, with its 95% two-level bootstrap CI and its verdict
(beats / ties / loses). Both references are chosen on the tuning seeds
(:mod:`hmarl_bench.harness.paired`). Baselines named ``*_free`` order free quantities;
every other baseline acts through the store actions.

With more than :data:`WIDE_LEARNERS` learners that one row would be too wide to read, so the
block becomes three tables with a row per scenario: the rules and the bound; each learner's
mean total cost and paired difference to the reference; each learner's share of the
reference's gap to the bound closed (the differences to the best on store actions stay in
``headline.md``).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from hmarl_bench.harness.cells import write_atomic
from hmarl_bench.harness.spec import BenchmarkError
from hmarl_bench.harness.tables import signed_ci

__all__ = ["readme_block", "replace_marked", "summary_markdown", "sync_readme"]

SEED_RULE, BOUND = "seed_ss_actions", "clairvoyant"
#: Up to this many learners the block is one table; beyond it, the compact three tables.
WIDE_LEARNERS = 3
#: Columns of headline.csv the block needs beyond the KPIs (made by the paired statistics).
PAIRED_COLUMNS = (
    "best_baseline",
    "best_actions_baseline",
    "diff_to_reference_mean",
    "diff_to_actions_reference_mean",
    "verdict",
    "verdict_actions",
)


def _cost(row: pd.Series | None, ci: bool = True) -> str:
    if row is None:
        return "–"
    mean, low, high = row["total_cost_mean"], row["total_cost_ci_low"], row["total_cost_ci_high"]
    if not ci or not (math.isfinite(low) and math.isfinite(high)):
        return f"{mean:,.0f}"
    return f"{mean:,.0f} [{low:,.0f}, {high:,.0f}]"


def _difference(row: pd.Series, suffix: str) -> str:
    prefix = f"diff_to{suffix}_reference"
    text = signed_ci(row[f"{prefix}_mean"], row[f"{prefix}_ci_low"], row[f"{prefix}_ci_high"])
    verdict = row[f"verdict{suffix}"]
    if text is None:
        return "–"
    return f"{text} {verdict}" if isinstance(verdict, str) else text


def _named(by_policy: pd.DataFrame, name: object) -> str:
    if not isinstance(name, str) or name not in by_policy.index:
        return "–"
    return f"{_cost(by_policy.loc[name])} ({name})"


def _rule_cells(by_policy: pd.DataFrame, first: pd.Series, has_bound: bool) -> list[str]:
    """The seed rule, the best on store actions, the reference (and the bound)."""
    cells = [_cost(by_policy.loc[SEED_RULE]) if SEED_RULE in by_policy.index else "–"]
    cells.append(_named(by_policy, first["best_actions_baseline"]))
    cells.append(_named(by_policy, first["best_baseline"]))
    if has_bound:
        cells.append(_cost(by_policy.loc[BOUND]) if BOUND in by_policy.index else "–")
    return cells


def summary_markdown(headline: pd.DataFrame) -> str:
    """The compact Markdown summary of a headline frame (see the module docstring)."""
    missing = [c for c in PAIRED_COLUMNS if c not in headline]
    if missing:
        raise BenchmarkError(
            "--readme",
            f"the headline lacks {missing}: it was made before the paired statistics; remake "
            "it with python -m hmarl_bench.benchmark NAME",
        )
    learners = list(dict.fromkeys(headline.loc[headline["kind"] == "learner", "policy"]))
    has_bound = (headline["policy"] == BOUND).any()
    if len(learners) > WIDE_LEARNERS:
        return _compact_markdown(headline, learners, has_bound)
    titles = ["Scenario", *learners, "seed rule (s,S)", "best on store actions", "reference"]
    titles += ["clairvoyant bound"] if has_bound else []
    for name in learners:
        titles += [f"{name} − best on store actions", f"{name} − reference"]
    lines = ["| " + " | ".join(titles) + " |", "|:---" + "|---:" * (len(titles) - 1) + "|"]
    for scenario, rows in headline.groupby("scenario", sort=False):
        by_policy = rows.set_index("policy")
        cells = [str(scenario)]
        cells += [
            _cost(by_policy.loc[name]) if name in by_policy.index else "–" for name in learners
        ]
        cells += _rule_cells(by_policy, rows.iloc[0], has_bound)
        for name in learners:
            if name not in by_policy.index:
                cells += ["–", "–"]
                continue
            row = by_policy.loc[name]
            cells += [_difference(row, "_actions"), _difference(row, "")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _table(titles: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(titles) + " |", "|:---" + "|---:" * (len(titles) - 1) + "|"]
    return lines + ["| " + " | ".join(cells) + " |" for cells in rows]


def _learner_cell(by_policy: pd.DataFrame, name: str) -> str:
    if name not in by_policy.index:
        return "–"
    row = by_policy.loc[name]
    return f"{_cost(row, ci=False)}: {_difference(row, '')}"


def _closed_cell(by_policy: pd.DataFrame, name: str) -> str:
    if name not in by_policy.index or "gap_closed" not in by_policy:
        return "–"
    row = by_policy.loc[name]
    text = signed_ci(
        row["gap_closed"], row["gap_closed_ci_low"], row["gap_closed_ci_high"], "{:+.2f}"
    )
    return text or "–"


def _compact_markdown(headline: pd.DataFrame, learners: list[str], has_bound: bool) -> str:
    """Three tables, a row per scenario each: rules and bound; learners' costs and paired
    differences to the reference; learners' shares of the reference's gap closed."""
    rules, paired, closed = [], [], []
    for scenario, rows in headline.groupby("scenario", sort=False):
        by_policy = rows.set_index("policy")
        rules.append([str(scenario), *_rule_cells(by_policy, rows.iloc[0], has_bound)])
        paired.append([str(scenario), *(_learner_cell(by_policy, n) for n in learners)])
        closed.append([str(scenario), *(_closed_cell(by_policy, n) for n in learners)])
    rule_titles = ["Scenario", "seed rule (s,S)", "best on store actions", "reference"]
    rule_titles += ["clairvoyant bound"] if has_bound else []
    lines = ["Rules and the bound: mean total cost [95% CI] (the rule's name).", ""]
    lines += _table(rule_titles, rules)
    lines += ["", "Learners: mean total cost: paired difference to the reference [95% CI].", ""]
    lines += _table(["Scenario", *learners], paired)
    lines += ["", "Learners: share of the reference's gap to the bound closed [95% CI].", ""]
    lines += _table(["Scenario", *learners], closed)
    return "\n".join(lines) + "\n"


def readme_block(root: Path) -> str:
    """The README block of the results folder ``root`` (``results/<benchmark>``)."""
    root = Path(root)
    headline = pd.read_csv(root / "tables" / "headline.csv")
    source = f"results/{root.name}/tables/headline.md"
    return (
        summary_markdown(headline)
        + "\nMean total cost per episode [95% bootstrap CI] over the held-out evaluation "
        "episodes (learners: pooled over training seeds). The reference is the baseline with "
        "the lowest mean cost on the tuning seeds, the best on store actions the same among "
        "the baselines acting through the store's four actions; both are chosen before the "
        "evaluation episodes are looked at. A − B = the paired difference of total cost on "
        "the same episodes, mean [95% CI of a bootstrap over training seeds and episodes]: "
        "beats (CI below 0), ties (CI contains 0) or loses (CI above 0). Every policy, "
        "IQM, fill rate, lost sales, inventories, gaps and the share of the reference's gap "
        f"to the bound closed: [`{source}`]({source}).\n"
    )


def replace_marked(readme: Path, key: str, block: str) -> bool:
    """Replace the text between the README's markers ``<!-- KEY -->`` and ``<!-- /KEY -->``
    with ``block``; returns whether the README changed. Raises ``BenchmarkError`` when the
    markers are missing."""
    start, end = f"<!-- {key} -->", f"<!-- /{key} -->"
    text = Path(readme).read_text("utf-8")
    if start not in text or end not in text:
        raise BenchmarkError("--readme", f"{readme} has no '{start}' ... '{end}' block")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{start}\n{block}{end}{tail}"
    if new != text:
        write_atomic(Path(readme), new.encode("utf-8"))
    return new != text


def sync_readme(readme: Path, name: str, block: str) -> bool:
    """Replace the README's block of benchmark ``name`` (markers
    ``<!-- benchmark:NAME:headline -->`` ... ``<!-- /benchmark:NAME:headline -->``)."""
    return replace_marked(readme, f"benchmark:{name}:headline", block)
