"""The printed tables, the linear fit of the step cost, and the scaling figure."""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hmarl_bench._atomic import save_atomic
from hmarl_bench.speed.measure import Measurement

__all__ = ["LinearFit", "fits_by_skus", "linear_fit", "plot_scaling", "print_tables"]


@dataclass(frozen=True)
class LinearFit:
    """``µs per step = overhead + per copy x B + per slot x B x S x K``, fitted to rows.

    Three linear terms, because a step has three kinds of work: a fixed per-call overhead
    (Python and numpy call costs), per-copy work (the warehouse and supplier of each copy)
    and per-slot work (each store-SKU pair). The fit minimizes *relative* residuals (each
    row weighted by 1 / its time), so small and large sizes count alike; ``worst`` is the
    largest ``|measured / fit - 1|``. A cost that grows linearly in the sizes fits every
    row within noise over five orders of magnitude; a superlinear one cannot.
    """

    overhead_us: float
    ns_per_copy: float
    ns_per_slot: float
    worst: float

    def predict(self, copies: float, slots: float) -> float:
        """µs per step for ``copies`` copies of ``slots`` slot-steps in all."""
        return self.overhead_us + (self.ns_per_copy * copies + self.ns_per_slot * slots) / 1e3

    def __str__(self) -> str:
        return (
            f"{self.overhead_us:,.1f} µs + {self.ns_per_copy:,.1f} ns x B + "
            f"{self.ns_per_slot:,.1f} ns x B x S x K (worst row off by {100 * self.worst:.0f}%)"
        )


def fits_by_skus(rows: Sequence[Measurement]) -> dict[int, LinearFit]:
    """One :func:`linear_fit` per SKU count K: the SKU code path has its own overhead."""
    scaling = [r for r in rows if r.section == "scaling"]
    return {
        k: linear_fit([r for r in scaling if r.skus == k])
        for k in sorted({r.skus for r in scaling})
    }


def linear_fit(rows: Sequence[Measurement]) -> LinearFit:
    """Weighted least squares of µs/step against copies B and slots B x S x K per call."""
    copies = np.array([r.copies for r in rows], dtype=float)
    slots = np.array([r.per_call for r in rows], dtype=float)
    us = np.array([r.us_per_call for r in rows])
    design = np.column_stack([np.ones_like(slots), copies / 1e3, slots / 1e3])
    if len(set(zip(copies, slots, strict=True))) < 3 or len(set(copies)) < 2:
        design[:, 1] = 0.0  # too few sizes to tell copies from slots apart
    coef, *_ = np.linalg.lstsq(design / us[:, None], np.ones_like(us), rcond=None)
    predicted = design @ coef
    worst = float(np.max(np.abs(us / predicted - 1)))
    return LinearFit(float(coef[0]), float(coef[1]), float(coef[2]), worst)


def plot_scaling(rows: Sequence[Measurement], out: Path) -> list[Path]:
    """Log-log: slot-steps per call vs µs per step (with the linear fit), and ns per slot-step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    scaling = [r for r in rows if r.section == "scaling"]
    fits = fits_by_skus(scaling)
    frame = pd.DataFrame([r.row() for r in scaling])
    frame["stores_n"] = frame["stores"]
    frame["stores"] = frame["stores"].map(lambda s: f"S = {s}")
    frame["SKUs"] = frame["skus"].map(lambda k: f"K = {k}")
    sns.set_theme(style="whitegrid", palette="colorblind", context="notebook")
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.6))
    for ax, y, label in (
        (axes[0], "us_per_call", "time per step [µs]"),
        (axes[1], "ns_per_unit", "time per slot-step [ns]"),
    ):
        sns.lineplot(
            frame,
            x="per_call",
            y=y,
            hue="stores",
            style="SKUs",
            markers=True,
            markersize=8,
            ax=ax,
        )
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="slot-steps per call (copies B x stores S x SKUs K)",
            ylabel=label,
        )
    # the fit of each (S, K) chain over B = 1 .. the largest B measured, thin and grey
    copies = np.geomspace(1, frame["copies"].max(), 40)
    for (n_stores, n_skus), _ in frame.groupby(["stores_n", "skus"]):
        fit, slots = fits[n_skus], copies * n_stores * n_skus
        label = "linear fit" if (n_stores, n_skus) == (frame["stores_n"].min(), 1) else None
        us = np.array([fit.predict(b, n) for b, n in zip(copies, slots, strict=True)])
        axes[0].plot(slots, us, ":", color="grey", lw=1, label=label, zorder=0)
        axes[1].plot(slots, 1e3 * us / slots, ":", color="grey", lw=1, label=label, zorder=0)
    for ax in axes:
        ax.legend(fontsize="x-small", ncols=2)
    axes[0].set_title("Cost of one day (rule policy + step + reconcile)")
    at_scale = ", ".join(f"{f.ns_per_slot:,.0f} (K = {k})" for k, f in fits.items())
    axes[1].set_title(f"Cost per slot-step -> {at_scale} ns", fontsize="medium")
    fig.tight_layout()
    paths = [out / "scaling.png", out / "scaling.pdf"]
    for path in paths:
        save_atomic(path, lambda tmp: fig.savefig(tmp, dpi=150))
    plt.close(fig)
    return paths


def _fmt(value: float, digits: int = 0) -> str:
    return "" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _mark(passed: bool | None) -> str:
    return "" if passed is None else ("PASS" if passed else "FAIL")


def _tables(rows: Sequence[Measurement]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, cells) of the printed tables."""
    tables = []
    titles = {
        "env": "(a) HMARLEnvironment, one copy, fixed valid actions [env-steps/s]",
        "twin": "(b) Batched twin: policy + step + reconcile, resets not timed "
        "[slot-steps/s; a slot is a store x SKU pair]",
        "vec": "(c) SharedPolicyVecEnv, random actions, auto-resets included [slot-steps/s]",
    }
    for section, title in titles.items():
        head = ["measurement", "scenario", "B", "S", "K", "rate", "µs/call", "CartPole sync",
                "ratio", "CartPole batched", "ratio", "bytes/copy", "target", ""]  # fmt: skip
        cells = [
            [r.name, r.scenario, str(r.copies), str(r.stores), str(r.skus), _fmt(r.rate),
             _fmt(r.us_per_call, 1),
             _fmt(r.reference_rate), _fmt(r.ratio, 2), _fmt(r.batched_reference_rate),
             _fmt(r.rate / r.batched_reference_rate, 2), _fmt(r.bytes_per_copy),
             _fmt(r.target), _mark(r.passed)]
            for r in rows if r.section == section
        ]  # fmt: skip
        if section == "env":  # one copy: also per agent
            for r in [r for r in rows if r.section == "env"]:
                agents = r.stores * r.skus + 2
                index = next(i for i, c in enumerate(cells) if c[:2] == [r.name, r.scenario])
                per_agent = [f"  x {agents} agents [agent-steps/s]", r.scenario, "1",
                             str(r.stores), str(r.skus), _fmt(agents * r.rate), "",
                             _fmt(agents * r.reference_rate)] + [""] * 6  # fmt: skip
                cells.insert(index + 1, per_agent)
        if cells:
            tables.append((title, head, cells))
    train = [r for r in rows if r.section == "train"]
    if train:
        head = ["learner", "B", "slots", "agent-steps/s", "CartPole PPO", "ratio", "target", ""]
        cells = [
            [r.name, str(r.copies), str(r.copies * r.stores), _fmt(r.rate),
             _fmt(r.reference_rate), _fmt(r.ratio, 2), f">= {r.target}", _mark(r.passed)]
            for r in train
        ]  # fmt: skip
        tables.append(("(d) PPO training, same settings, CPU, 1 torch thread", head, cells))
    torch_rows = [r for r in rows if r.section == "torch"]
    if torch_rows:
        head = ["measurement", "scenario", "B", "copy-days/s", "numpy twin", "ratio"]
        cells = [
            [r.name, r.scenario, str(r.copies), _fmt(r.rate), _fmt(r.reference_rate),
             _fmt(r.ratio, 2)]
            for r in torch_rows
        ]  # fmt: skip
        title = (
            "(f) Torch twin (HDPO): whole episodes of an HDPO policy, CPU, 1 torch thread, "
            "beside the numpy twin with fixed orders [copy-days/s]"
        )
        tables.append((title, head, cells))
    tuning = [r for r in rows if r.section == "tuning"]
    if tuning:
        head = ["measurement", "scenario", "processes", "candidate-episodes", "rate",
                "one evaluate() per candidate", "ratio", "target", ""]  # fmt: skip
        cells = [
            [r.name, r.scenario, str(r.workers), f"{r.per_call:,}", _fmt(r.rate),
             _fmt(r.reference_rate), _fmt(r.ratio, 1), _fmt(r.target), _mark(r.passed)]
            for r in tuning
        ]  # fmt: skip
        title = (
            "(e) Tuning: candidate-episodes/s (a candidate parameter set x a tuning episode), "
            "ten tuning seeds, the echelon_free family"
        )
        tables.append((title, head, cells))
    scaling = [r for r in rows if r.section == "scaling"]
    if scaling:
        fits = fits_by_skus(scaling)
        head = ["B", "S", "K", "B x S x K", "µs/step", "linear fit", "measured/fit",
                "ns/slot-step", "slot-steps/s", "bytes/copy"]  # fmt: skip
        cells = [
            [str(r.copies), str(r.stores), str(r.skus), f"{r.per_call:,}", _fmt(r.us_per_call, 1),
             _fmt(fits[r.skus].predict(r.copies, r.per_call), 1),
             _fmt(r.us_per_call / fits[r.skus].predict(r.copies, r.per_call), 2),
             _fmt(1e9 / r.rate, 1), _fmt(r.rate), _fmt(r.bytes_per_copy)]
            for r in scaling
        ]  # fmt: skip
        title = (
            "Scaling of the twin (rule policy + step + reconcile) over copies B x stores S x "
            "SKUs K; linear fits µs/step = overhead + per copy x B + per slot x B x S x K: "
            + "; ".join(f"K = {k}: {fit}" for k, fit in fits.items())
        )
        tables.append((title, head, cells))
    return tables


def print_tables(rows: Sequence[Measurement], notes: Sequence[str]) -> str:
    """Print with rich when available, else plain aligned text; return the plain text."""
    plain = []
    for title, head, cells in _tables(rows):
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
        plain.append(title)
        for line in [head, *cells]:
            plain.append("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
        plain.append("")
    plain.extend(notes)
    text = "\n".join(plain)
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
    except ImportError:
        print(text)
        return text
    console = Console(width=max(shutil.get_terminal_size((150, 24)).columns, 150))
    for title, head, cells in _tables(rows):
        table = Table(title=escape(title), title_justify="left")
        for i, h in enumerate(head):
            table.add_column(h, justify="left" if i == 0 else "right")
        for line in cells:
            style = {"PASS": "green", "FAIL": "red"}.get(line[-1])
            table.add_row(*line[:-1], f"[{style}]{line[-1]}[/]" if style else line[-1])
        console.print(table)
    for note in notes:
        console.print(note)
    return text


#: The markers around the speed results in ``docs/speed.md`` (``--readme``).
README_KEY = "speed:results"


def readme_block(out: Path) -> str:
    """The documentation's copy of a speed run: ``speed.txt`` in ``out``, verbatim, as a text
    block (so no speed figure in the documentation is typed by hand)."""
    return "```text\n" + (Path(out) / "speed.txt").read_text("utf-8") + "```\n"
