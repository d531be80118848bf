"""``python -m hmarl_bench.speed.mpc``: the MILP's solve time per scenario and the estimate of
a ``tuned_mpc_free`` cell's CPU time (what decides which scenarios a benchmark gives it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from hmarl_bench.baselines.mpc import SAFETY_GRID
from hmarl_bench.config import load_scenario
from hmarl_bench.harness.spec import load_benchmark
from hmarl_bench.speed import mpc

ROOT = Path(__file__).resolve().parents[1]


def test_cell_solves_counts_tuning_evaluation_and_the_reference_run() -> None:
    sc = load_scenario("default")
    # 3 candidates x 10 tuning seeds, 20 evaluation seeds, the 10 tuning seeds again
    assert len(SAFETY_GRID) == 2
    assert mpc.cell_solves(sc, 10, 20) == (30 + 20 + 10) * sc.episode_days


def test_measure_stops_at_the_budget_and_scales_the_mean_solve() -> None:
    cost = mpc.measure("default", 0.3, seed=10000, tuning_seeds=10, evaluation_seeds=20)
    assert 1 <= cost.days_measured < cost.episode_days  # stopped early, after a first day
    assert 0 < cost.mean_solve <= cost.slowest_solve
    expected = cost.mean_solve * cost.cell_solves / 3600
    assert cost.cell_cpu_hours == pytest.approx(expected)


def test_command_writes_the_table_and_the_readme_block(tmp_path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- speed:mpc -->\nold\n<!-- /speed:mpc -->\nb\n", encoding="utf-8")
    # a stored cell of 'default' (1.5 h) on frontier's seed counts; under "a_bench" (first
    # by name) one made for 10 tuning seeds, which solved other MILPs and must not count;
    # none of three_stores
    results = tmp_path / "results"
    spec = load_benchmark("frontier")
    for bench, tuning, seconds in (
        ("a_bench", list(range(10)), 60.0),
        ("bench", spec.tuning_seeds, 5400.0),
    ):
        (results / bench / "cells").mkdir(parents=True)
        stored = {
            "seconds": seconds,
            "cell": {"tuning_seeds": list(tuning), "evaluation_seeds": spec.evaluation_seeds},
        }
        cell = results / bench / "cells" / "default__tuned_mpc_free.json"
        cell.write_text(json.dumps(stored), encoding="utf-8")
    assert len(spec.tuning_seeds) != 10
    out = tmp_path / "mpc"
    argv = ["default", "three_stores", "--seconds", "0.2", "--out", str(out)]
    assert mpc.main([*argv, "--readme", str(readme), "--results", str(results)]) == 0
    frame = pd.read_csv(out / "mpc.csv")
    assert frame["scenario"].tolist() == ["default", "three_stores"]
    assert frame["stores"].tolist() == [2, 3]
    assert frame["stored_cell_hours"].iloc[0] == 1.5 and frame["stored_in"].iloc[0] == "bench"
    assert pd.isna(frame["stored_cell_hours"].iloc[1])
    table = (out / "mpc.md").read_text("utf-8")
    assert "| default | 2 |" in table and "| 1.50 (bench) |" in table
    assert table.splitlines()[-1].endswith("| – |")  # three_stores: no stored cell
    assert readme.read_text("utf-8") == f"a\n<!-- speed:mpc -->\n{table}<!-- /speed:mpc -->\nb\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no_such_scenario"], "no_such_scenario"),
        (["default", "--seconds", "0"], "--seconds must be a positive"),
        (["default", "--benchmark", "nope"], "--benchmark"),
        (["multi_sku"], "models one SKU"),
        (["default", "--readme", "missing.md"], "--readme: missing.md not found"),
    ],
)
def test_bad_input_is_a_one_line_error(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        mpc.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_docs_block_equals_the_committed_table() -> None:
    text = (ROOT / "docs" / "results" / "frontier_mpc.md").read_text("utf-8")
    block = re.search(r"<!-- speed:mpc -->\n(.*?)<!-- /speed:mpc -->", text, re.S)
    assert block is not None
    assert block.group(1) == (ROOT / "results" / "speed" / "mpc" / "mpc.md").read_text("utf-8")
