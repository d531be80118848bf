"""A cell's results as JSON-ready values: per-episode rows and one episode's daily trace;
records as CSV (a tuned baseline's search trace)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd

from hmarl_bench.config import Scenario

__all__ = ["TRACE_SLOTS", "episode_trace", "records_csv", "rows_of"]


#: Store slots kept in an episode trace (and drawn in its figure).
TRACE_SLOTS = 6


def episode_trace(frame: pd.DataFrame, scenario: Scenario, index: int = 0) -> dict[str, Any]:
    """Daily series of copy ``index`` from ``evaluate(..., keep_reports=True)``.

    Stores: on_hand (end of day), ordered, demand, lost_sales [units] of the first
    :data:`TRACE_SLOTS` store slots (store-SKU pairs; all of them in small chains, so a
    1,000-store trace stays small); warehouse: on_hand, ordered (from the supplier),
    shipped (to the stores), short (ordered by the stores but not shipped) [units], over
    all SKUs.
    """
    reports = frame.attrs["reports"]

    def series(role: str, term: str, store: int | None = None) -> list[float]:
        values = [getattr(getattr(r, role), term)[index] for r in reports]
        return [float(v if store is None else v[store]) for v in values]

    names = [s.name for s in scenario.stores]  # with several SKUs: "<store>_<sku>" per slot
    if scenario.n_skus > 1:
        names = [f"{store}_{sku.name}" for store in names for sku in scenario.products]
    stores = {
        name: {t: series("stores", t, i) for t in ("on_hand", "ordered", "demand", "lost_sales")}
        for i, name in enumerate(names[:TRACE_SLOTS])
    }
    warehouse = {
        "on_hand": series("warehouse", "on_hand"),
        "ordered": series("warehouse", "ordered"),
        "shipped": series("warehouse", "sales"),
        "short": series("warehouse", "lost_sales"),
    }
    return {
        "seed": int(frame["seed"].iloc[index]),
        "days": [int(r.day) for r in reports],
        "warmup_days": scenario.warmup_days,
        "stores": stores,
        "warehouse": warehouse,
    }


def rows_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready records (numpy scalars as Python numbers, NaN as None)."""
    return [
        {k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def records_csv(records: list[dict[str, Any]]) -> bytes:
    """Records with the same keys as CSV text (a header, then one line per record): a tuned
    baseline's search trace as ``tuning/<cell-id>.csv``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue().encode()
