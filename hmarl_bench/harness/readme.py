"""The README's result tables, made from a benchmark's committed ``tables/headline.csv``.

Numbers in the README are never typed by hand: ``python -m hmarl_bench.benchmark NAME
--only-tables --readme README.md`` writes :func:`readme_block` between the README's markers
``<!-- benchmark:NAME:headline -->`` and ``<!-- /benchmark:NAME:headline -->``, and a test
checks that the README still equals what the committed results give.

The block is a compact view of the headline: one row per scenario, the mean total cost
[95% CI] of every learner, of the seed's rule, of the best baseline on the store's own four
actions (the interface a learned store policy has), of the best baseline overall (free
order quantities included) and of the clairvoyant bound, then the probability that each
learner beats the best baseline on the store actions, and the best baseline overall, on
the same episode. Baselines named ``*_free`` order free
quantities; every other baseline acts through the store actions.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from hmarl_bench.harness.cells import write_atomic
from hmarl_bench.harness.spec import BenchmarkError
from hmarl_bench.harness.stats import is_free_quantity

__all__ = ["readme_block", "replace_marked", "summary_markdown", "sync_readme"]

SEED_RULE, BOUND = "seed_ss_actions", "clairvoyant"
#: P(lower cost on the same episode) against the best baseline on the store actions, and
#: against the best baseline overall.
P_COLUMNS = ("p_improvement_actions", "p_improvement")


def _cost(row: pd.Series | None, ci: bool = True) -> str:
    if row is None:
        return "–"
    mean, low, high = row["total_cost_mean"], row["total_cost_ci_low"], row["total_cost_ci_high"]
    if not ci or not (math.isfinite(low) and math.isfinite(high)):
        return f"{mean:,.0f}"
    return f"{mean:,.0f} [{low:,.0f}, {high:,.0f}]"


def _best(rows: pd.DataFrame) -> pd.Series | None:
    if rows.empty:
        return None
    return rows.loc[rows["total_cost_mean"].idxmin()]


def summary_markdown(headline: pd.DataFrame) -> str:
    """The compact Markdown summary of a headline frame (see the module docstring)."""
    learners = list(dict.fromkeys(headline.loc[headline["kind"] == "learner", "policy"]))
    has_bound = (headline["policy"] == BOUND).any()
    titles = ["Scenario", *learners, "seed rule (s,S)", "best on store actions", "best baseline"]
    titles += ["clairvoyant bound"] if has_bound else []
    titles += [f"P({name} better): on store actions / overall" for name in learners]
    lines = ["| " + " | ".join(titles) + " |", "|:---" + "|---:" * (len(titles) - 1) + "|"]
    for scenario, rows in headline.groupby("scenario", sort=False):
        by_policy = rows.set_index("policy")
        baselines = rows[rows["kind"] == "baseline"]
        on_actions = baselines[[not is_free_quantity(p) for p in baselines["policy"]]]
        best_actions, best = _best(on_actions), _best(baselines)
        cells = [str(scenario)]
        cells += [
            _cost(by_policy.loc[name]) if name in by_policy.index else "–" for name in learners
        ]
        cells.append(_cost(by_policy.loc[SEED_RULE]) if SEED_RULE in by_policy.index else "–")
        for row in (best_actions, best):
            cells.append("–" if row is None else f"{_cost(row)} ({row['policy']})")
        if has_bound:
            cells.append(_cost(by_policy.loc[BOUND]) if BOUND in by_policy.index else "–")
        for name in learners:
            values = [by_policy[c].get(name, math.nan) for c in P_COLUMNS]
            cells.append(" / ".join("–" if not math.isfinite(v) else f"{v:.2f}" for v in values))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def readme_block(root: Path) -> str:
    """The README block of the results folder ``root`` (``results/<benchmark>``)."""
    root = Path(root)
    headline = pd.read_csv(root / "tables" / "headline.csv")
    source = f"results/{root.name}/tables/headline.md"
    return (
        summary_markdown(headline)
        + "\nMean total cost per episode [95% bootstrap CI] over the held-out evaluation "
        "episodes (learners: pooled over training seeds); P = probability of a lower cost "
        "than the best baseline on the store actions / the best baseline overall, on the same "
        "episode. Every policy, "
        f"IQM, fill rate, lost sales, inventories and gaps: [`{source}`]({source}).\n"
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
