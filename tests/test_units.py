"""Work units: a rule's cell split into episodes equals the cell run whole, to the unit,
resumes without redoing stored units, and discards stale ones."""

from __future__ import annotations

import json

import pytest
from unit_helpers import spec_of, stored, table_without_clock

from hmarl_bench import benchmark
from hmarl_bench.harness import units as units_module
from hmarl_bench.harness.cells import BASELINE, Cell
from hmarl_bench.harness.units import splits

SAME = ("rows", "trace", "policy", "fingerprint", "scenario")
SAME_INFO = ("tuned_params", "tuning_rows", "tuning_trace")


def test_split_cells_across_two_workers_equal_whole_cells(tmp_path):
    baselines = ["tuned_mpc_fast_free", "mpc_free", "tuned_order_up_to_actions", "seed_ss_free"]
    spec = spec_of(tmp_path, baselines)
    whole = benchmark.run_benchmark(
        spec, tmp_path / "whole", progress=False, figures=False, split="none"
    )
    split = benchmark.run_benchmark(
        spec, tmp_path / "split", workers=2, progress=False, figures=False, split="all"
    )
    assert not whole.failed and not split.failed
    one, two = stored(tmp_path / "whole", "units"), stored(tmp_path / "split", "units")
    assert sorted(one) == sorted(two) and len(one) == len(baselines)
    for cell_id, result in one.items():
        other = two[cell_id]
        assert "units" not in result["info"] and "units" in other["info"]
        for key in SAME:
            assert result[key] == other[key], (cell_id, key)
        for key in SAME_INFO:
            assert result["info"].get(key) == other["info"].get(key), (cell_id, key)
        if "mpc" in result["info"]:
            assert result["info"]["mpc"]["solves"] == other["info"]["mpc"]["solves"]
            days = len(result["info"]["mpc"]["seconds_per_day"])
            assert days == len(other["info"]["mpc"]["seconds_per_day"])
        units = other["info"]["units"]
        assert units["count"] == len(
            list((tmp_path / "split/units/cells").glob(f"{cell_id}.units/*.json"))
        )
        assert units["cpu_seconds"] > 0 and units["nodes"]
    # a grid-tuned rule: candidates x tuning seeds, then the evaluation seeds
    assert two["short__tuned_mpc_fast_free"]["info"]["units"]["count"] == 3 * 2 + 3
    # the tables a split run writes are the whole run's
    for name in ("headline.csv", "per_seed.csv"):
        left = table_without_clock(tmp_path / "whole" / "units" / "tables" / name)
        assert left == table_without_clock(tmp_path / "split" / "units" / "tables" / name)


def test_a_rerun_redoes_only_missing_units_and_discards_stale_ones(tmp_path, monkeypatch, capsys):
    spec = spec_of(tmp_path, ["tuned_order_up_to_actions"])
    ran: list[str] = []
    fail = {"on": True}
    real = units_module.run_unit

    def run_unit(unit):
        ran.append(unit.unit_id)
        if fail["on"] and unit.stage == "evaluate" and unit.seed == 10001:
            raise RuntimeError("killed")
        return real(unit)

    monkeypatch.setattr(units_module, "run_unit", run_unit)
    first = benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False, split="all")
    assert first.failed == ["short__tuned_order_up_to_actions"]
    folder = tmp_path / "units" / "cells" / "short__tuned_order_up_to_actions.units"
    kept = sorted(p.stem for p in folder.glob("*.json"))
    (failed,) = set(ran) - set(kept)  # every unit but the failed one is stored
    assert failed.startswith("evaluate__") and failed.endswith("seed10001")
    # --status says how far the cell got (candidates x 2 tuning seeds, then 3 evaluation
    # seeds) and leaves its stored share out of the estimate
    capsys.readouterr()
    benchmark.print_status(spec, tmp_path / "units")
    line = next(
        ln for ln in capsys.readouterr().out.splitlines() if ".units" not in ln and "short__" in ln
    )
    assert f"({len(kept)} of {len(kept) + 1} work units stored: a run resumes from them)" in line
    # one stored tuning unit goes stale (another fingerprint): deleted and run again
    stale = folder / f"{kept[-1]}.json"
    assert kept[-1].startswith("tune__")
    record = json.loads(stale.read_text("utf-8"))
    stale.write_text(json.dumps({**record, "fingerprint": "0" * 16}), encoding="utf-8")
    benchmark.print_status(spec, tmp_path / "units")  # reads only: the stale unit stays
    assert (
        stale.is_file() and f"({len(kept) - 1} of {len(kept) + 1} work" in capsys.readouterr().out
    )
    fail["on"], ran[:] = False, []
    second = benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False, split="all")
    assert not second.failed and sorted(ran) == sorted([kept[-1], failed])
    ran.clear()
    third = benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False, split="all")
    assert third.n_ran == 0 and ran == []
    # the resumed cell is the cell run whole
    whole = benchmark.run_benchmark(
        spec, tmp_path / "whole", progress=False, figures=False, split="none"
    )
    assert not whole.failed
    one, two = stored(tmp_path / "whole", "units"), stored(tmp_path, "units")
    for key in SAME:
        assert (
            one["short__tuned_order_up_to_actions"][key]
            == two["short__tuned_order_up_to_actions"][key]
        )
    # the cell stale again (n hours, say) with all but one of its n units still current:
    # --status counts only the missing unit's share, one hour
    units = sorted(folder.glob("*.json"))
    cell_file = tmp_path / "units" / "cells" / "short__tuned_order_up_to_actions.json"
    record = json.loads(cell_file.read_text("utf-8"))
    seconds = 3600.0 * len(units)
    cell_file.write_text(json.dumps({**record, "fingerprint": "old", "seconds": seconds}), "utf-8")
    units[0].unlink()
    capsys.readouterr()
    benchmark.print_status(spec, tmp_path / "units")
    assert "to run: 1 cells, about 1.0 CPU-hours" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("policy", "mode", "expected"),
    [
        ("tuned_mpc_free", "milp", True),
        ("mpc_fast_free", "milp", True),
        ("tuned_order_up_to_actions", "milp", False),
        ("tuned_order_up_to_actions", "all", True),
        ("random", "all", False),  # one random stream over the batch
        ("tuned_echelon_free", "all", False),  # a continuous search runs whole
        ("tuned_mpc_free", "none", False),
    ],
)
def test_which_cells_split(policy, mode, expected):
    cell = Cell(BASELINE, "default", policy, (10000,), tuning_seeds=(100,))
    assert splits(cell, mode) is expected


def test_unknown_split_mode_is_refused():
    cell = Cell(BASELINE, "default", "mpc_free", (10000,))
    with pytest.raises(ValueError, match="unknown split mode"):
        splits(cell, "some")


def test_a_node_with_other_code_refuses_a_unit():
    from hmarl_bench.harness.units import Unit, run_unit

    cell = Cell(BASELINE, "default", "seed_ss_free", (10000,), fingerprint="0" * 16)
    with pytest.raises(RuntimeError, match="install the driver's hmarl_bench"):
        run_unit(Unit(cell, "evaluate", 10000))
