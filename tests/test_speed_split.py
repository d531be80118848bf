"""``python -m hmarl_bench.speed.split``: one MILP cell run as units with 1 and 2 workers,
its wall time, the units' span and CPU seconds, and the check that both runs assemble the
same cell."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from unit_helpers import BENCH, short_scenario

from hmarl_bench.speed import split


@pytest.fixture
def bench(tmp_path: Path) -> tuple[Path, str]:
    scenario = short_scenario(tmp_path)
    path = tmp_path / "tiny.toml"
    text = BENCH.format(name="tiny", scenario=scenario, baselines=json.dumps(["mpc_free"]))
    path.write_text(text, encoding="utf-8")
    return path, scenario


def test_command_runs_the_cell_per_worker_count_and_writes_the_table(bench, tmp_path) -> None:
    path, scenario = bench
    readme = tmp_path / "page.md"
    readme.write_text("a\n<!-- speed:split -->\nold\n<!-- /speed:split -->\nb\n", "utf-8")
    out = tmp_path / "out"
    argv = ["--benchmark", str(path), "--scenario", scenario, "--policy", "tuned_mpc_fast_free"]
    argv += ["--tuning-episodes", "2", "--episodes", "2", "--out", str(out)]
    assert split.main([*argv, "--readme", str(readme)]) == 0
    frame = pd.read_csv(out / "split.csv")
    assert frame["workers"].tolist() == [1, 2]
    # 2 safety-grid candidates + the defaults on 2 tuning seeds, then 2 evaluation seeds
    assert frame["units"].tolist() == [8, 8]
    assert frame["total_cost"].nunique() == 1
    assert (frame["cpu"] >= frame["slowest_unit"]).all()
    assert (frame["wall"] >= frame["span"] * 0.99).all()
    table = (out / "split.md").read_text("utf-8")
    assert "| 1 |" in table and "| 2 |" in table and "1.00x" in table
    assert "load average" in table
    assert table in readme.read_text("utf-8")


def test_runs_that_assemble_different_cells_fail(bench, monkeypatch) -> None:
    path, scenario = bench
    spec = split.small_spec(str(path), scenario, "mpc_free", 1, 1)
    real = split.run_once

    def other_rows_with_two_workers(spec, workers):
        run, result = real(spec, 1)
        if workers == 2:
            result = dict(result, rows=[dict(result["rows"][0], total_cost=0.0)])
        return dataclasses.replace(run, workers=workers), result

    monkeypatch.setattr(split, "run_once", other_rows_with_two_workers)
    with pytest.raises(RuntimeError, match="differs .* in rows"):
        split.measure(spec, [1, 2])


def test_bad_input_is_one_line(bench, capsys) -> None:
    path, scenario = bench
    with pytest.raises(SystemExit) as exit_:
        split.main(["--benchmark", str(path), "--scenario", scenario, "--episodes", "9"])
    assert exit_.value.code == 2
    assert "has 2 tuning and 3 evaluation seeds" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        split.main(["--benchmark", str(path), "--scenario", scenario, "--workers", "0"])
    assert "--workers must be >= 1" in capsys.readouterr().err


def test_committed_page_block_is_the_committed_table() -> None:
    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "scale-out.md").read_text("utf-8")
    block = re.search(r"<!-- speed:split -->\n(.*?)<!-- /speed:split -->", text, re.S)
    assert block, "docs/scale-out.md lost its speed:split block"
    table = (root / "results" / "speed" / "split" / "split.md").read_text("utf-8")
    assert block.group(1) == table
    assert "| 1 |" in table and "| 2 |" in table
