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
(any randomness in a figure, e.g. jitter, is drawn from a seeded generator). Text is set
in the DejaVu Sans that ships inside matplotlib (:func:`pin_font`), never a system font
of the same name or another sans-serif found on the machine (seaborn's default list starts
with Arial): which copy a fresh install's font cache lists first would otherwise decide
the font embedded in every PDF. The bytes then depend on the versions of matplotlib (its
renderer and bundled font), fontTools (the PDF's font subset) and seaborn (the theme),
which :func:`plotting_versions` reports and ``manifest.json`` records.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import Formatter  # noqa: E402

from hmarl_bench._atomic import save_atomic  # noqa: E402
from hmarl_bench.harness.plots.registry import (  # noqa: E402
    PolicyStyle,
    family_label,
    family_of,
    short_label,
    styles_for,
)

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
    "pin_font",
    "plotting_versions",
    "policy_order",
    "policy_styles",
    "save",
    "set_style",
    "short_label",
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


#: The one typeface of every figure: matplotlib's bundled copy (see :func:`pin_font`).
FONT = "DejaVu Sans"
#: Packages whose versions decide a figure's bytes.
PLOTTING_PACKAGES = ("matplotlib", "fonttools", "seaborn")


def plotting_versions() -> dict[str, str]:
    """The installed versions of :data:`PLOTTING_PACKAGES` and the font file used."""
    out = {}
    for name in PLOTTING_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    out["font"] = f"{FONT} (matplotlib's bundled mpl-data/fonts/ttf)"
    return out


def pin_font() -> None:
    """Make :data:`FONT` resolve to the files bundled with matplotlib only: a system copy
    (another version of the same family) is dropped from the font manager's list, so the
    font in the files does not depend on the machine or on its font cache's order."""
    bundled = Path(matplotlib.get_data_path(), "fonts", "ttf").resolve()
    manager = font_manager.fontManager
    keep = [
        f for f in manager.ttflist if f.name != FONT or Path(f.fname).resolve().parent == bundled
    ]
    if len(keep) != len(manager.ttflist):
        manager.ttflist = keep
        manager._findfont_cached.cache_clear()  # resolve again, from the bundled files only
        font_manager._get_font.cache_clear()


def set_style(width: float = TWO_COLUMN) -> None:
    """seaborn whitegrid and the colour-blind palette, with fonts sized for print at
    ``width`` (a little smaller titles at one-column width; nothing below 6.5 pt), in
    matplotlib's own DejaVu Sans (:func:`pin_font`)."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind")
    pin_font()
    small = narrow(width)
    plt.rcParams.update(
        {
            "font.size": 8,
            "axes.titlesize": 7 if small else 8,
            "axes.titleweight": "bold",
            "axes.labelsize": 7.5,
            "xtick.labelsize": 7,
            "ytick.labelsize": 7,
            "legend.fontsize": 7,
            "legend.title_fontsize": 7,
            "figure.titlesize": 8 if small else 8.5,
            "figure.labelsize": 7.5,
            "lines.linewidth": 1.2,
            "lines.markersize": 4,
            "grid.linewidth": 0.5,
            "axes.linewidth": 0.6,
            "savefig.dpi": DPI,
            "figure.dpi": 100,
            "font.family": "sans-serif",
            "font.sans-serif": [FONT],
            "mathtext.fontset": "dejavusans",
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


class ThousandsFormatter(Formatter):
    """Tick labels like ``120k``, with as many decimals as it takes to keep every label of
    the axis distinct (``22.5k``, ``23.0k`` rather than ``22k``, ``23k``, ``23k``)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.format_ticks([x])[0]

    def format_ticks(self, values) -> list[str]:
        values = [float(v) for v in values]
        top = max((abs(v) for v in values), default=0.0)
        for decimals in range(4):
            labels = [_number(v, decimals, top) for v in values]
            lost = any(v != 0 and label == "0" for v, label in zip(values, labels, strict=True))
            if len(set(labels)) == len(labels) and not lost:
                return labels
        return labels


def _number(value: float, decimals: int, top: float) -> str:
    """``value`` in M (from a million), k (on an axis reaching 10,000) or units."""
    scale, unit = (1e6, "M") if abs(value) >= 1e6 else (1e3, "k") if top >= 1e4 else (1.0, "")
    text = f"{value / scale:,.{decimals}f}"
    return "0" if float(text.replace(",", "")) == 0 else text + unit


def thousands(ax: plt.Axes, axis: str = "x") -> None:
    """Tick labels like ``120k``, never two alike (no offset text colliding with the axis
    label)."""
    for which in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"{which}axis").set_major_formatter(ThousandsFormatter())


def save(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    """``stem.png`` and ``stem.pdf`` in ``out_dir``, byte-stable; closes the figure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    save_atomic(paths[0], lambda tmp: fig.savefig(tmp, metadata=PNG_METADATA))
    save_atomic(paths[1], lambda tmp: fig.savefig(tmp, metadata=PDF_METADATA))
    plt.close(fig)
    return paths


#: No figure is taller than this [in] at either width (a page less its caption).
MAX_HEIGHT = 9.0


def narrow(width: float) -> bool:
    return width < TWO_COLUMN - 0.01


def overhead(width: float, legend_rows: int = 0) -> float:
    """Height [in] of a figure's caption, axis labels and ``legend_rows`` legend lines."""
    caption_lines = 2 if not narrow(width) else 4
    return 0.15 * caption_lines + 0.15 * legend_rows + 0.45


def per_page(n: int, width: float, panel_height: float, columns: int, legend_rows: int = 0) -> int:
    """How many of ``n`` panels one figure holds, so it stays within :data:`MAX_HEIGHT`:
    the pages are balanced (11 panels that need two pages: 6 and 5, not 8 and 3)."""
    cols = max(1, min(n, columns))
    rows = max(1, math.floor((MAX_HEIGHT - overhead(width, legend_rows)) / panel_height))
    pages = math.ceil(n / (rows * cols))
    return cols * math.ceil(math.ceil(n / pages) / cols)


def chunks(items: Sequence, size: int) -> list[list]:
    """``items`` in consecutive pages of at most ``size``."""
    size = max(1, size)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def page_stem(stem: str, page: int) -> str:
    """The file stem of page ``page`` (0-based): the first keeps ``stem``, then ``_p2``..."""
    return stem if page == 0 else f"{stem}_p{page + 1}"


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
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(width, min(MAX_HEIGHT, panel_height * rows + overhead(width, legend_rows))),
        squeeze=False,
        sharey=sharey,
        layout="constrained",
    )
    if narrow(width):  # room between narrow panels for their titles
        fig.get_layout_engine().set(wspace=0.06)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def legend_columns(labels: Sequence[str], width: float, font_pt: float = 7.0,
                   handle_in: float = 0.45) -> int:  # fmt: skip
    """The most legend columns whose widest labels still fit in ``width`` [in] (matplotlib
    would let a wider legend run off both edges of the figure)."""
    widest = max((max(len(line) for line in str(t).split("\n")) for t in labels), default=1)
    column = widest * 0.56 * font_pt / 72 + handle_in
    return max(1, min(len(labels), math.floor((width - 0.15) / column)))


def legend_rows(labels: Sequence[str], width: float) -> int:
    return math.ceil(len(labels) / legend_columns(labels, width))


def label_outer(axes: Sequence[plt.Axes], xlabel: str, ylabel: str | None = None) -> None:
    """``xlabel`` under the lowest panel of each column, ``ylabel`` left of the first
    column (figure-level labels would collide with a legend below the panels)."""
    boxes = [(ax, ax.get_subplotspec()) for ax in axes]
    if narrow(axes[0].figure.get_size_inches()[0]):  # the unit on its own line under a narrow panel
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


def grid_columns(width: float, wide: int = 3, slim: int = 2) -> int:
    return slim if narrow(width) else wide


# --------------------------------------------------------------------------- policies


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


def policy_styles(headline: pd.DataFrame) -> dict[str, PolicyStyle]:
    """A colour, marker and line style per policy, from the one registry of every
    benchmark (:mod:`~hmarl_bench.harness.plots.registry`)."""
    kinds = _kinds(headline)
    return styles_for({name: kinds[name] for name in policy_order(headline)})


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
