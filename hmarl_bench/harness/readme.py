"""Result tables for Markdown pages, made from a benchmark's committed ``tables/headline.csv``.

Numbers in the README and the documentation are never typed by hand: ``python -m
hmarl_bench.benchmark NAME --only-tables --readme PAGE.md`` writes, into any Markdown file,
the blocks whose markers it holds (:func:`sync_markdown`): :func:`readme_block` between
``<!-- benchmark:NAME:headline -->`` and ``<!-- /benchmark:NAME:headline -->`` (the
benchmark's page, ``docs/results/NAME.md``), and :func:`front_block`, a five-column summary,
between ``<!-- benchmark:NAME:summary -->`` and ``<!-- /benchmark:NAME:summary -->`` (the
README). Links in a block are relative to the page it is written into. Tests check that the
committed pages still equal what the committed results give.

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
import os
from pathlib import Path

import pandas as pd

from hmarl_bench.harness.cells import write_atomic
from hmarl_bench.harness.manifest import read_manifest
from hmarl_bench.harness.spec import BenchmarkError
from hmarl_bench.harness.tables import signed_ci

__all__ = [
    "BLOCK_KINDS",
    "front_block",
    "front_markdown",
    "readme_block",
    "replace_marked",
    "summary_markdown",
    "sync_markdown",
    "sync_readme",
]

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


def _link(root: Path, page: Path | None) -> str:
    """The path of ``root``'s ``tables/headline.md`` as a link from ``page`` (without a page:
    from the project root, where the README is)."""
    target = Path(root) / "tables" / "headline.md"
    if page is None:
        return f"results/{Path(root).name}/tables/headline.md"
    relative = os.path.relpath(target.resolve(), Path(page).resolve().parent)
    return Path(relative).as_posix()


def partial_note(root: Path) -> str:
    """The line that opens a block made from partial tables (``manifest.json`` records what
    was not current when they were made: ``--allow-missing``), or "" for complete ones. A
    block must not read as a finished comparison when some of its cells are not in it."""
    mark = read_manifest(root).get("partial", "")
    if not mark:
        return ""
    return (
        f"> **Partial results**: {mark}. Only current cells are in this table: every rule "
        "and the bound (the reference is chosen among all the rules), and each learner whose "
        "every training seed is current there; a learner's verdict against the reference "
        "stands on its own, the counts cover only the learners present.\n\n"
    )


def readme_block(root: Path, page: Path | None = None) -> str:
    """The headline block of the results folder ``root`` (``results/<benchmark>``), its link
    relative to the Markdown file ``page`` it goes into."""
    root = Path(root)
    headline = pd.read_csv(root / "tables" / "headline.csv")
    source = _link(root, page)
    return (
        partial_note(root)
        + summary_markdown(headline)
        + "\nMean total cost per episode [95% bootstrap CI] over the held-out evaluation "
        "episodes (learners: pooled over training seeds). The reference is the baseline with "
        "the lowest mean cost on the tuning seeds, the best on store actions the same among "
        "the baselines acting through the store's four actions; both are chosen before the "
        "evaluation episodes are looked at. A − B = the paired difference of total cost on "
        "the same episodes, mean [95% CI of a bootstrap over training seeds and episodes]: "
        "beats (CI below 0), ties (CI contains 0) or loses (CI above 0). Every policy, "
        "IQM, fill rate, lost sales, inventories, gaps and the share of the reference's gap "
        f"to the bound closed: [`results/{root.name}/tables/headline.md`]({source}).\n"
    )


def front_markdown(headline: pd.DataFrame) -> str:
    """Five columns, a row per scenario: the reference (mean cost and name), the bound, how
    many learners beat / tie / lose the reference, and the closest learner's paired
    difference to it (the learner with the lowest mean difference; a description of the
    results, not a selection: every learner's row is in the headline)."""
    missing = [c for c in PAIRED_COLUMNS if c not in headline]
    if missing:
        raise BenchmarkError(
            "--readme",
            f"the headline lacks {missing}: it was made before the paired statistics; remake "
            "it with python -m hmarl_bench.benchmark NAME",
        )
    titles = [
        "Scenario",
        "reference (best rule on the tuning seeds)",
        "clairvoyant bound",
        "learners: beat / tie / lose it",
        "closest learner − reference [95% CI]",
    ]
    rows = []
    for scenario, frame in headline.groupby("scenario", sort=False):
        by_policy = frame.set_index("policy")
        reference = frame.iloc[0]["best_baseline"]
        ref = (
            f"{_cost(by_policy.loc[reference], ci=False)} ({reference})"
            if isinstance(reference, str) and reference in by_policy.index
            else "–"
        )
        bound = _cost(by_policy.loc[BOUND], ci=False) if BOUND in by_policy.index else "–"
        learners = frame[frame["kind"] == "learner"]
        verdicts = learners["verdict"].value_counts()
        counts = " / ".join(str(int(verdicts.get(v, 0))) for v in ("beats", "ties", "loses"))
        finite = learners[learners["diff_to_reference_mean"].notna()]
        if len(finite):
            best = finite.iloc[int(finite["diff_to_reference_mean"].to_numpy().argmin())]
            closest = f"{_difference(best, '')} ({best['policy']})"
        else:
            closest = "–"
        rows.append([str(scenario), ref, bound, counts, closest])
    return "\n".join(_table(titles, rows)) + "\n"


def front_block(root: Path, page: Path | None = None) -> str:
    """The README's summary of the results folder ``root`` (:func:`front_markdown`), with
    its caption and a link to the headline, relative to ``page``."""
    root = Path(root)
    headline = pd.read_csv(root / "tables" / "headline.csv")
    source = _link(root, page)
    return (
        partial_note(root)
        + front_markdown(headline)
        + "\nMean total cost per episode over the held-out evaluation episodes. The reference "
        "is the rule with the lowest mean cost on the tuning seeds, chosen before the "
        "evaluation episodes are looked at. A learner beats / ties / loses to it when the "
        "95% CI of its paired difference of total cost (a bootstrap over training seeds and "
        "episodes) lies below / contains / lies above 0; the closest learner is the one "
        "with the lowest mean difference. Every policy and statistic: "
        f"[`results/{root.name}/tables/headline.md`]({source}).\n"
    )


#: The blocks a Markdown page can hold for a benchmark: marker suffix -> block maker.
BLOCK_KINDS = {"headline": readme_block, "summary": front_block}


def marker_keys(text: str, name: str) -> list[str]:
    """The kinds of ``BLOCK_KINDS`` whose markers for benchmark ``name`` are in ``text``."""
    return [
        kind
        for kind in BLOCK_KINDS
        if f"<!-- benchmark:{name}:{kind} -->" in text
        and f"<!-- /benchmark:{name}:{kind} -->" in text
    ]


def sync_markdown(page: Path, name: str, root: Path) -> dict[str, bool]:
    """Write every block of benchmark ``name`` whose markers ``page`` holds (the headline,
    the summary) from the results folder ``root``; returns kind -> whether it changed.
    Raises ``BenchmarkError`` when the page holds neither."""
    kinds = marker_keys(Path(page).read_text("utf-8"), name)
    if not kinds:
        raise BenchmarkError(
            "--readme",
            f"{page} has no '<!-- benchmark:{name}:headline -->' or "
            f"'<!-- benchmark:{name}:summary -->' ... block",
        )
    return {
        kind: replace_marked(page, f"benchmark:{name}:{kind}", BLOCK_KINDS[kind](root, page))
        for kind in kinds
    }


def replace_marked(readme: Path, key: str, block: str) -> bool:
    """Replace the text between a Markdown file's markers ``<!-- KEY -->`` and ``<!-- /KEY -->``
    with ``block``; returns whether the file changed. Raises ``BenchmarkError`` when the
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
