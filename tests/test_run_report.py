"""The run CLI's printed table: it fits an 80-column terminal and prints the CI exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console

from hmarl_bench.run.report import (
    TABLE_COLUMNS,
    TERMINAL_COLUMNS,
    print_cell,
    rich_table,
    summary_table,
)


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = {
        name: pd.DataFrame(
            {
                "total_cost": rng.normal(mean, 3000, 20),
                "fill_rate": rng.uniform(0.8, 1.0, 20),
                "lost_sales": rng.uniform(0, 2000, 20),
                "mean_store_inventory": rng.uniform(100, 4000, 20),
                "store_reward": rng.normal(-12000, 3000, 20),
            }
        )
        for name, mean in (("ppo:stores+warehouse", 1_111_779), ("fixed_forecast_actions", 136_000))
    }
    return summary_table(frames)


def test_the_table_fits_80_columns_without_cutting_a_value():
    table = _table()
    printed = rich_table(table, "a title as long as the run's, wrapped by rich if need be")
    assert Console(width=200).measure(printed).maximum <= TERMINAL_COLUMNS
    console = Console(width=TERMINAL_COLUMNS, record=True)
    console.print(printed)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= TERMINAL_COLUMNS
    assert "…" not in text  # nothing truncated
    for _, row in table.iterrows():
        for column in TABLE_COLUMNS:
            for line in print_cell(row, column).splitlines():
                assert line in text


def test_a_cell_is_the_mean_then_the_ci_bounds_as_offsets():
    row = {
        "total_cost": 111_413.2,
        "total_cost_ci_low": 110_629.9,
        "total_cost_ci_high": 112_112.4,
        "fill_rate": 0.98684,
        "fill_rate_ci_low": 0.98324,
        "fill_rate_ci_high": 0.99040,
    }
    assert print_cell(row, "total_cost") == "111,413\n-783/+699"
    assert print_cell(row, "fill_rate") == "98.68\n-0.36/+0.36"
    row = {"store_reward": -12_000.0, "store_reward_ci_low": -13_312.0,
           "store_reward_ci_high": -10_800.0}  # fmt: skip
    assert print_cell(row, "store_reward") == "-12,000\n-1.3k/+1.2k"
