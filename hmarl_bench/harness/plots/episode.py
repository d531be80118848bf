"""One evaluation episode, day by day: a learner beside the rule it should be compared with.

**Like with like.** A learner that controls only the stores keeps the seed's warehouse
rule, so it is shown beside the best rule *on the store actions* (which keeps that same
warehouse rule); a learner that controls the warehouse is shown beside the reference, the
best rule overall (which runs the warehouse too). Every column's title says which roles
learned and which follow rules.

**Layout.** A column per policy (the same episode, the same demand); per node (each store
shown, then the warehouse) two panels on one day axis: *stock* (on hand at the end of the
day; triangles on the day axis mark stockout days: a store's lost sales, the warehouse
shipping less than the stores ordered) and *flows* (orders placed as bars, demand or
shipments as a line). Rows share their y axis across columns. Grey: the warm-up, excluded
from the KPIs.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from hmarl_bench.harness.plots.costs import caption
from hmarl_bench.harness.plots.style import (
    TWO_COLUMN,
    PolicyStyle,
    family_of,
    palette,
    thousands,
)
from hmarl_bench.harness.stats import is_free_quantity

__all__ = [
    "episode_columns",
    "episode_figure",
    "episode_learners",
    "episode_pages",
    "roles_text",
    "warehouse_rule",
]

ROLES = ("stores", "warehouse", "supplier")
#: Store nodes drawn (the trace keeps up to six store-SKU slots).
MAX_STORES = 3
STOCKOUT_COLOR = "#c0392b"


def roles_text(policy: str, kind: str, learned: tuple[str, ...] | None) -> str:
    """Which roles learned and which follow rules, in a few words."""
    if kind == "learner":
        learned = tuple(learned or ("stores",))
        if learned == ("residual",):
            return "learned: factors on tuned_echelon_free's store and warehouse levels"
        rules = [r for r in ROLES if r not in learned]
        return f"learned: {', '.join(learned)}" + (f"; rules: {', '.join(rules)}" if rules else "")
    if kind == "baseline":
        if is_free_quantity(policy):
            return f"rules: stores and warehouse ({warehouse_rule(policy)}), free quantities"
        return f"rules: stores (4 actions), warehouse {warehouse_rule(policy)}"
    return str(kind)


def warehouse_rule(policy: str) -> str:
    """What a baseline's warehouse runs, by its name: the echelon rules order on the
    echelon position (Clark-Scarf); the MILP plans the chain; the rest keep the seed's
    (s,S) on the warehouse's four order sizes (free variants: a free (s,S))."""
    family = family_of(policy)[0]
    if family.startswith("echelon"):
        return "echelon (s,S)" if family != "echelon_base_stock" else "echelon base-stock"
    if family == "mpc":
        return "rolling-horizon MILP"
    if is_free_quantity(policy):
        return "(s,S)"
    return "seed (s,S)"


def episode_columns(
    group: pd.DataFrame,
    traces: dict[tuple, dict],
    learned_roles: dict[str, tuple[str, ...]],
    one_column: bool = False,
    only: list[str] | None = None,
) -> list[tuple[str, str, dict]]:
    """(policy, title, trace) of each column for one scenario's headline rows ``group``.

    Store-only benchmarks show their first learner (``ppo`` if there is one); benchmarks
    with learners above the stores show each learner setting (or the learners ``only``).
    Each is followed by its like-for-like rule (see the module docstring); one column width
    shows the first pair.
    """
    scenario = group["scenario"].iloc[0]
    learners = episode_learners(group, learned_roles) if only is None else list(only)
    first = group.iloc[0]
    columns: list[tuple[str, str, dict]] = []
    comparators: list[str] = []
    for name in learners:
        keys = sorted(k for k in traces if k[0] == scenario and k[1] == name)
        if not keys:
            continue
        title = f"{name} (training seed {keys[0][2]})\n"
        columns.append((name, title + roles_text(name, "learner", learned_roles.get(name)),
                        traces[keys[0]]))  # fmt: skip
        store_only = tuple(learned_roles.get(name, ("stores",))) == ("stores",)
        comparators.append(first["best_actions_baseline"] if store_only else first["best_baseline"])
    if not columns:
        comparators = [first["best_baseline"]]
    labels = {  # the reference's label wins when it is also the best on store actions
        first["best_actions_baseline"]: "best on store actions",
        first["best_baseline"]: "reference",
    }
    for name in dict.fromkeys(c for c in comparators if isinstance(c, str)):
        trace = traces.get((scenario, name, None))
        if trace is None:
            continue
        title = f"{name} ({labels.get(name, 'rule')})\n" + roles_text(name, "baseline", None)
        columns.append((name, title, trace))
    if one_column and len(columns) > 2:
        pair = comparators[0] if comparators else None
        columns = [columns[0], *[c for c in columns[1:] if c[0] == pair][:1]]
    return columns


def episode_learners(group: pd.DataFrame, learned_roles: dict[str, tuple[str, ...]]) -> list:
    """The learners an episode figure shows (see :func:`episode_columns`)."""
    kinds = dict(zip(group["policy"], group["kind"], strict=True))
    learners = [p for p in group["policy"] if kinds[p] == "learner"]
    hierarchical = any(tuple(learned_roles.get(p, ("stores",))) != ("stores",) for p in learners)
    if not hierarchical and learners:
        learners = ["ppo" if "ppo" in learners else learners[0]]
    return learners


#: Learners per two-column episode figure: with their rules at most four columns, so the
#: column titles fit; more learners go to pages ``_p2``, ``_p3``, ...
LEARNERS_PER_PAGE = 2


def episode_pages(
    group: pd.DataFrame,
    traces: dict[tuple, dict],
    learned_roles: dict[str, tuple[str, ...]],
    one_column: bool = False,
) -> list[list[tuple[str, str, dict]]]:
    """The columns of each page of one scenario's episode figure (one page at one-column
    width: the first learner and its rule)."""
    learners = episode_learners(group, learned_roles)
    if one_column or len(learners) <= LEARNERS_PER_PAGE:
        columns = episode_columns(group, traces, learned_roles, one_column)
        return [columns] if columns else []
    pages = [
        learners[i : i + LEARNERS_PER_PAGE] for i in range(0, len(learners), LEARNERS_PER_PAGE)
    ]
    out = [episode_columns(group, traces, learned_roles, False, part) for part in pages]
    return [columns for columns in out if columns]


def _nodes(trace: dict) -> list[tuple[str, dict, str]]:
    stores = list(trace["stores"])[:MAX_STORES]
    nodes = [(name, trace["stores"][name], "demand") for name in stores]
    return nodes + [("warehouse", trace["warehouse"], "shipped")]


def _wrap(text: str, width_in: float, font_pt: float) -> str:
    chars = max(12, int(width_in * 72 / (0.55 * font_pt)))
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


def episode_figure(
    scenario: str,
    columns: list[tuple[str, str, dict]],
    styles: dict[str, PolicyStyle],
    width: float,
) -> plt.Figure:
    """The episode figure of ``columns`` (from :func:`episode_columns`)."""
    nodes = _nodes(columns[0][2])
    ratios = [1.0, 0.7] * len(nodes)
    legend_rows = 4 if width >= TWO_COLUMN - 0.01 else 7
    height = 0.8 * sum(ratios) + 0.75 + 0.14 * legend_rows
    fig, axes = plt.subplots(
        len(ratios), len(columns), figsize=(width, height), sharex=True, sharey="row",
        squeeze=False, layout="constrained", gridspec_kw={"height_ratios": ratios},
    )  # fmt: skip
    fig.get_layout_engine().set(h_pad=0.02, hspace=0.02)
    pal = palette()
    title_pt = 7.0 if len(columns) <= 3 else 6.5
    column_width = (width - 0.6) / len(columns)
    for col, (name, title, trace) in enumerate(columns):
        days = np.asarray(trace["days"])
        color = styles[name].color if name in styles else pal[0]
        for i, (node, series, flow) in enumerate(_nodes(trace)):
            stock, flows = axes[2 * i, col], axes[2 * i + 1, col]
            for ax in (stock, flows):
                ax.axvspan(days[0] - 0.5, trace["warmup_days"] - 0.5, color="0.9", lw=0)
            stock.plot(days, series["on_hand"], color=color, lw=1.1)
            short = series.get("lost_sales" if flow == "demand" else "short")
            if short is not None:  # on the zero line; the axis's margin keeps them whole
                out = days[np.asarray(short) > 0]
                stock.plot(out, np.zeros(len(out)), ls="none", marker="^", ms=3.5,
                           color=STOCKOUT_COLOR, zorder=4)  # fmt: skip
            stock.axhline(0, color="0.6", lw=0.5)
            flows.bar(days, series["ordered"], width=0.8, color=pal[1], lw=0)
            flows.plot(days, series[flow], color="0.3", lw=0.8)  # bars keep the axis at 0
            stock.text(0.99, 0.93, node, transform=stock.transAxes, ha="right", va="top",
                       fontsize=6.5, color="0.25",
                       bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.6})  # fmt: skip
            if col == 0:
                stock.set_ylabel("stock")
                flows.set_ylabel("flows")
        axes[0, col].set_title(_wrap(title, column_width, title_pt), fontsize=title_pt)
        axes[-1, col].set_xlabel("day")
        thousands(axes[-1, col], "x")
    for ax in axes.flat:
        thousands(ax, "y")
    handles = [
        Line2D([], [], color="0.2", lw=1.1),
        Line2D([], [], ls="none", marker="^", ms=4, color=STOCKOUT_COLOR),
        Patch(color=pal[1]),
        Line2D([], [], color="0.3", lw=0.8),
        Patch(color="0.9"),
    ]
    labels = [
        "stock: on hand, end of day [units]",
        "stockout day (store: lost sales;\nwarehouse: shipped < ordered)",
        "order placed [units]",
        "store: demand; warehouse: shipped\nto the stores [units/day]",
        "warm-up (not in the KPIs)",
    ]
    fig.legend(handles, labels, loc="outside lower center", frameon=False,
               ncol=3 if width >= TWO_COLUMN - 0.01 else 1, handlelength=1.5,
               columnspacing=0.8)  # fmt: skip
    caption(fig, f"{scenario}: one evaluation episode (seed {columns[0][2]['seed']}); every "
                 "column faces the same demand.")  # fmt: skip
    return fig
