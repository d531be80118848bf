"""The value-of-regime-information diagnostic (hmarl_bench.information)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from committed import pending_rerun

from hmarl_bench import information
from hmarl_bench.baselines.frontier import EchelonFree
from hmarl_bench.config import DemandRegimes, load_scenario
from hmarl_bench.evaluation import total_costs

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [3, 4, 5]


def _scenario(multipliers=(0.6, 1.0, 1.5)):
    base = load_scenario("regime_switching")
    regimes = DemandRegimes(multipliers, (15.0, 30.0, 12.0)[: len(multipliers)])
    short = dataclasses.replace(base, episode_days=40)
    return dataclasses.replace(short, demand=dataclasses.replace(base.demand, regimes=regimes))


def test_exponent_zero_is_the_rule_bit_for_bit():
    scenario = _scenario()
    costs = information.informed_costs(scenario, EchelonFree, {}, SEEDS, (0.0, 0.5), lag=0)
    assert np.array_equal(costs[0], total_costs(scenario, EchelonFree(), SEEDS))
    assert not np.array_equal(costs[1], costs[0])  # the regime does move the levels


def test_levels_are_scaled_by_the_told_regimes_multiplier():
    """With every regime's multiplier 2 the factor is 2 ** a on every day: the same as the
    rule with all its levels doubled (a = 1) or unchanged (a = 0), whatever the lag."""
    scenario = _scenario((2.0, 2.0))

    class Doubled(EchelonFree):
        def store_levels(self, view):
            s, big_s = super().store_levels(view)
            return 2.0 * s, 2.0 * big_s

        def warehouse_levels(self, view):
            s, big_s = super().warehouse_levels(view)
            return 2.0 * s, 2.0 * big_s

    for lag in (0, 7):
        costs = information.informed_costs(scenario, EchelonFree, {}, SEEDS, (0.0, 1.0), lag)
        assert np.array_equal(costs[0], total_costs(scenario, EchelonFree(), SEEDS))
        assert np.array_equal(costs[1], total_costs(scenario, Doubled(), SEEDS))


def test_the_committed_table_is_what_the_command_makes(tmp_path):
    """Remade from the committed frontier cells: the same bytes as the committed table and
    the copy on the benchmark's documentation page (the rerun with a = 0 also reproduces the
    stored reference rows)."""
    if reason := pending_rerun("frontier"):  # stale cells: the command refuses them
        pytest.skip(f"results/frontier awaits its rerun (results/PENDING_RERUN: {reason})")
    committed = ROOT / "results" / "frontier" / "information" / "regime_value.md"
    assert information.main(["frontier", "--results", str(ROOT / "results"), "--out",
                             str(tmp_path)]) == 0  # fmt: skip
    made = tmp_path / "frontier" / "information" / "regime_value.md"
    assert made.read_text("utf-8") == committed.read_text("utf-8")
    readme = (ROOT / "docs" / "results" / "frontier.md").read_text("utf-8")
    start = f"<!-- {information.README_KEY}:frontier -->\n"
    block = readme.split(start, 1)[1].split(f"<!-- /{information.README_KEY}:frontier -->")[0]
    assert block == committed.read_text("utf-8")


def test_a_benchmark_without_regimes_or_results_is_a_clear_error(tmp_path, capsys):
    assert information.main(["hierarchy", "--results", str(ROOT / "results"), "--out",
                             str(tmp_path)]) == 2  # fmt: skip
    assert "no scenario with hidden demand regimes" in capsys.readouterr().err
    assert information.main(["frontier", "--results", str(tmp_path)]) == 2
    assert "not found: run python -m hmarl_bench.benchmark frontier" in capsys.readouterr().err


def test_a_stale_reference_cell_is_refused(tmp_path, capsys):
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results" / "frontier" / "tables", results / "frontier" / "tables")
    (results / "frontier" / "cells").mkdir()
    assert information.main(["frontier", "--results", str(results)]) == 2
    assert "is not stored under the current code" in capsys.readouterr().err


def test_the_update_of_the_readme_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- information:x -->\nold\n<!-- /information:x -->\nb\n", "utf-8")
    information.update_readme(readme, "x", "new\n")
    assert (
        readme.read_text("utf-8") == "a\n<!-- information:x -->\nnew\n<!-- /information:x -->\nb\n"
    )
    with pytest.raises(information.InformationError):
        information.update_readme(readme, "y", "new\n")


def test_an_unwritable_out_folder_is_a_clear_error(capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("computed before checking the output folder")

    monkeypatch.setattr(information, "regime_value", no_work)  # checked before any work
    with pytest.raises(SystemExit) as exit_info:
        information.main(["frontier", "--results", str(ROOT / "results"), "--out", "/proc/x"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: --out: cannot write to /proc/x/frontier/information" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
