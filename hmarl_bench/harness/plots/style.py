"""The one style of every figure: paper widths, fonts, a look per policy, byte-stable files.

**Widths.** Every figure is drawn at its final size, a journal's two-column width
(:data:`TWO_COLUMN`, 7 in: ``<stem>.png``/``.pdf``) and one-column width
(:data:`ONE_COLUMN`, 3.5 in: ``<stem>_1col.png``/``.pdf``), with fonts of 7-8 pt at that
size, so nothing is scaled down (and shrunk below legibility) when it is placed. Layout is
matplotlib's constrained layout, and files are saved without ``bbox_inches="tight"``, so
the width in the file is the width asked for.

**Policies.** :func:`policy_styles` gives every policy one colour, marker and line style,
the same in every figure: learners (and policies brought from outside, kind ``external``)
in strong colours with solid/dashed/dotted lines;
baselines coloured by rule *family* ((s,S), order-up-to, ...) with the marker saying the
variant (through the store's four actions or free quantities; untuned or tuned); the
clairvoyant bound in green. :func:`policy_order` is the one top-to-bottom order of every
panel that lists policies.

**Byte-stable files.** :func:`save` writes PDF without creation date, creator or producer,
and PNG without the software chunk, so two builds of the same figure are byte-identical
(any randomness in a figure, e.g. jitter, is drawn from a seeded generator).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from hmarl_bench._atomic import save_atomic

__all__ = [
    "COST_UNIT",
    "error_bar",
    "ONE_COLUMN",
    "TWO_COLUMN",
    "WIDTHS",
    "PolicyStyle",
    "facets",
    "family_of",
    "focus_range",
    "label_outer",
    "palette",
    "policy_order",
    "policy_styles",
    "save",
    "set_style",
    "thousands",
]

ONE_COLUMN, TWO_COLUMN = 3.5, 7.0  # inches
#: File-name suffix -> figure width [in]: every figure is written at both.
WIDTHS = {"": TWO_COLUMN, "_1col": ONE_COLUMN}
COST_UNIT = "total cost [currency/episode]"
BOUND, LEARNER, EXTERNAL = "clairvoyant", "learner", "external"
#: PDF and PNG metadata that would differ between builds (dates, versions): left out.
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}
PNG_METADATA = {"Software": None}
DPI = 200

_LEARNER_MARKERS = ("*", "P", "h", "p", "H", "8")
_LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 2)))
#: Baseline marker by (free quantities, tuned).
_VARIANT_MARKERS = {(False, False): "o", (False, True): "s", (True, False): "^", (True, True): "D"}
_SPARE_MARKERS = ("v", "<", ">", "d", "8", "p")
_FAMILY_LABELS = {
    "ss": "(s,S)",
    "order_up_to": "order-up-to",
    "fixed_forecast": "1.0 x forecast",
    "random": "random",
}


def set_style(width: float = TWO_COLUMN) -> None:
    """seaborn whitegrid and the colour-blind palette, with fonts sized for print at
    ``width`` (a little smaller titles at one-column width; nothing below 6.5 pt)."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind")
    narrow = width < TWO_COLUMN - 0.01
    plt.rcParams.update(
        {
            "font.size": 8,
            "axes.titlesize": 7 if narrow else 8,
            "axes.titleweight": "bold",
            "axes.labelsize": 7.5,
            "xtick.labelsize": 7,
            "ytick.labelsize": 7,
            "legend.fontsize": 7,
            "legend.title_fontsize": 7,
            "figure.titlesize": 8 if narrow else 8.5,
            "figure.labelsize": 7.5,
            "lines.linewidth": 1.2,
            "lines.markersize": 4,
            "grid.linewidth": 0.5,
            "axes.linewidth": 0.6,
            "savefig.dpi": DPI,
            "figure.dpi": 100,
            "pdf.fonttype": 42,  # TrueType in PDFs: text stays text, as journals ask
            "svg.hashsalt": "hmarl_bench",
        }
    )


#: Scenario names longer than this are broken over two lines in panel titles.
TITLE_CHARS = 18


def scenario_title(name: str, limit: int = TITLE_CHARS) -> str:
    """``name`` for a panel title: a long snake_case name breaks after the underscore
    nearest its middle, so the titles of neighbouring panels never run into each other."""
    cuts = [i for i, c in enumerate(name) if c == "_"]
    if len(name) <= limit or not cuts:
        return name
    cut = min(cuts, key=lambda i: abs(i + 1 - len(name) / 2))
    return f"{name[: cut + 1]}\n{name[cut + 1 :]}"


def palette() -> list[tuple[float, float, float]]:
    return list(sns.color_palette("colorblind"))


def thousands(ax: plt.Axes, axis: str = "x") -> None:
    """Tick labels like ``120k`` (no offset text colliding with the axis label)."""
    formatter = FuncFormatter(lambda v, _: f"{v / 1e3:,.0f}k" if abs(v) >= 1e4 else f"{v:,.0f}")
    for which in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"{which}axis").set_major_formatter(formatter)


def save(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    """``stem.png`` and ``stem.pdf`` in ``out_dir``, byte-stable; closes the figure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    save_atomic(paths[0], lambda tmp: fig.savefig(tmp, metadata=PNG_METADATA))
    save_atomic(paths[1], lambda tmp: fig.savefig(tmp, metadata=PDF_METADATA))
    plt.close(fig)
    return paths


def facets(
    n: int,
    width: float,
    panel_height: float,
    columns: int,
    sharey: bool | str = False,
    legend_rows: int = 0,
) -> tuple[plt.Figure, list[plt.Axes]]:
    """``n`` panels in a grid of ``columns`` at the figure ``width`` [in], with room for a
    caption and ``legend_rows`` lines of legend below the panels."""
    cols = max(1, min(n, columns))
    rows = math.ceil(n / cols)
    caption_lines = 2 if width >= TWO_COLUMN - 0.01 else 4
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(width, panel_height * rows + 0.15 * caption_lines + 0.15 * legend_rows + 0.3),
        squeeze=False,
        sharey=sharey,
        layout="constrained",
    )
    if width < TWO_COLUMN - 0.01:  # room between narrow panels for their titles
        fig.get_layout_engine().set(wspace=0.06)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def label_outer(axes: Sequence[plt.Axes], xlabel: str, ylabel: str | None = None) -> None:
    """``xlabel`` under the lowest panel of each column, ``ylabel`` left of the first
    column (figure-level labels would collide with a legend below the panels)."""
    boxes = [(ax, ax.get_subplotspec()) for ax in axes]
    narrow = axes[0].figure.get_size_inches()[0] < TWO_COLUMN - 0.01
    if narrow:  # the unit on its own line under a narrow panel
        xlabel = xlabel.replace(" [", "\n[", 1)
    for ax, spec in boxes:
        below = [
            other
            for other, o in boxes
            if o.colspan.start == spec.colspan.start and o.rowspan.start > spec.rowspan.start
        ]
        if not below:
            ax.set_xlabel(xlabel)
        if ylabel is not None and spec.is_first_col():
            ax.set_ylabel(ylabel)


def grid_columns(width: float, wide: int = 3, narrow: int = 2) -> int:
    return wide if width >= TWO_COLUMN - 0.01 else narrow


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class PolicyStyle:
    """How a policy looks in every figure."""

    color: Any
    marker: str
    linestyle: Any
    family: str  # the legend's group: "learner", a rule family's label, "bound", ...
    kind: str


def family_of(policy: str) -> tuple[str, bool, bool]:
    """(rule family, free quantities, tuned) of a baseline's name:
    ``tuned_ss_free`` -> ("ss", True, True), ``seed_ss_actions`` -> ("ss", False, False)."""
    tuned = policy.startswith("tuned_")
    name = policy.removeprefix("tuned_").removeprefix("seed_")
    free = name.endswith("_free")
    name = name.removesuffix("_free").removesuffix("_actions")
    return name, free, tuned


def family_label(family: str) -> str:
    return _FAMILY_LABELS.get(family, family.replace("_", " "))


def _kinds(headline: pd.DataFrame) -> dict[str, str]:
    return dict(zip(headline["policy"], headline["kind"], strict=True))


def policy_order(headline: pd.DataFrame) -> list[str]:
    """Every policy once, top to bottom: learners (benchmark order), policies brought from
    outside (``external``), baselines grouped by family (untuned before tuned, store
    actions before free), other kinds, the bound."""
    kinds = _kinds(headline)
    names = list(dict.fromkeys(headline["policy"]))
    learners = [p for p in names if kinds[p] in (LEARNER, EXTERNAL)]
    learners.sort(key=lambda p: kinds[p] == EXTERNAL)  # stable: learners first
    baselines = [p for p in names if kinds[p] == "baseline"]
    families = list(dict.fromkeys(family_of(p)[0] for p in baselines))
    baselines.sort(key=lambda p: (families.index(family_of(p)[0]), *family_of(p)[1:]))
    others = [p for p in names if p not in learners and p not in baselines and p != BOUND]
    return learners + baselines + others + ([BOUND] if BOUND in kinds else [])


#: Colours of rule families beyond the fixed ones (Paul Tol's colour-blind-safe "muted").
_SPARE_FAMILY_COLORS = ("#44AA99", "#999933", "#332288", "#CC6677", "#DDCC77", "#117733")


def _family_colors(families: Iterable[str]) -> dict[str, Any]:
    pal = palette()
    fixed = {"ss": pal[1], "order_up_to": "#882255", "fixed_forecast": pal[5], "random": pal[7]}
    out: dict[str, Any] = {}
    spare = 0
    for family in families:
        if family in fixed:
            out[family] = fixed[family]
        else:
            out[family] = _SPARE_FAMILY_COLORS[spare % len(_SPARE_FAMILY_COLORS)]
            spare += 1
    return out


def policy_styles(headline: pd.DataFrame) -> dict[str, PolicyStyle]:
    """A colour, marker and line style per policy (see the module docstring)."""
    pal = palette()
    kinds = _kinds(headline)
    order = policy_order(headline)
    learner_colors = [pal[0], pal[4], pal[9], pal[6], pal[5], pal[3]]
    styles: dict[str, PolicyStyle] = {}
    strong = [p for p in order if kinds[p] in (LEARNER, EXTERNAL)]  # brought ones too
    for i, name in enumerate(strong):
        styles[name] = PolicyStyle(
            learner_colors[i % len(learner_colors)],
            _LEARNER_MARKERS[i % len(_LEARNER_MARKERS)],
            _LINESTYLES[i % len(_LINESTYLES)],
            kinds[name],
            kinds[name],
        )
    baselines = [p for p in order if kinds[p] == "baseline"]
    colors = _family_colors(family_of(p)[0] for p in baselines)
    used: set[tuple[str, str]] = set()
    for name in baselines:
        family, free, tuned = family_of(name)
        marker = "X" if family == "random" else _VARIANT_MARKERS[(free, tuned)]
        if (family, marker) in used:  # two policies of one family and variant
            marker = next(m for m in _SPARE_MARKERS if (family, m) not in used)
        used.add((family, marker))
        styles[name] = PolicyStyle(colors[family], marker, "-", family_label(family), "baseline")
    for i, name in enumerate(p for p in order if p not in styles and p != BOUND):
        styles[name] = PolicyStyle("0.25", _SPARE_MARKERS[i % 6], "-.", kinds[name], kinds[name])
    if BOUND in kinds:
        styles[BOUND] = PolicyStyle(pal[2], "d", "--", "clairvoyant bound", kinds[BOUND])
    return styles


def variant_label(policy: str, kind: str) -> str:
    """What a policy is, for legends: ``(s,S), free quantities, tuned``."""
    if kind != "baseline":
        labels = {"learner": "learner", "clairvoyant": "perfect information",
                  "external": "brought policy"}  # fmt: skip
        return labels.get(kind, kind)
    family, free, tuned = family_of(policy)
    if family == "random":
        return "random feasible actions"
    interface = "free quantities" if free else "store actions"
    return f"{family_label(family)}, {interface}" + (", tuned" if tuned else "")


# --------------------------------------------------------------------------- ranges


def error_bar(mean: float, low: float, high: float, scale: float = 1.0) -> np.ndarray:
    """``[[below], [above]]`` for ``errorbar``: a missing bound draws no bar, and a bound a
    rounding error on the wrong side of the mean (a constant sample) draws none either."""
    below, above = scale * (mean - low), scale * (high - mean)
    return np.maximum(np.nan_to_num([[below], [above]]), 0.0)


def focus_range(
    intervals: Sequence[tuple[float, float]], pad: float = 0.08, floor: float | None = None
) -> tuple[float, float]:
    """Limits that show every ``(low, high)`` interval given, padded by ``pad`` of the span:
    the cluster that matters, not the whole range of every policy."""
    values = np.array([v for pair in intervals for v in pair if np.isfinite(v)], dtype=float)
    if not values.size:
        return (0.0, 1.0)
    low, high = float(values.min()), float(values.max())
    span = high - low or max(abs(high), 1.0) * 0.05
    low, high = low - pad * span, high + pad * span
    if floor is not None:
        low = max(low, floor)
    return low, high
