"""python -m hmarl_bench.speed: a tiny run writes its tables, CSV and figure; the fit."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from hmarl_bench.speed import Measurement, chain_scenario, linear_fit
from hmarl_bench.speed.__main__ import _parse_sizes, main


def test_a_quick_run_writes_every_section(tmp_path: Path) -> None:
    argv = ["--quick", "--seconds", "0.02", "--sizes", "1,4x2x1,2", "--out", str(tmp_path)]
    assert main(argv) == 0
    frame = pd.read_csv(tmp_path / "speed.csv")
    assert {"env", "twin", "vec", "torch", "scaling"} <= set(frame["section"])
    torch_rows = frame[frame["section"] == "torch"]
    assert len(torch_rows) == 2 and (torch_rows["reference_rate"] > 0).all()
    assert set(frame.loc[frame["section"] == "twin", "scenario"]) == {"default", "multi_sku"}
    scaling = frame[frame["section"] == "scaling"]
    assert sorted(scaling["skus"].unique()) == [1, 2] and len(scaling) == 4
    assert (scaling["per_call"] == scaling["copies"] * scaling["stores"] * scaling["skus"]).all()
    assert (frame["rate"] > 0).all()
    for name in ("speed.txt", "scaling.png", "scaling.pdf"):
        assert (tmp_path / name).stat().st_size > 0
    text = (tmp_path / "speed.txt").read_text(encoding="utf-8")
    assert "linear fits" in text and "(f) Torch twin (HDPO)" in text


def test_sizes_parse_copies_stores_and_skus() -> None:
    assert _parse_sizes("1,16x2,10x1,3") == ([1, 16], [2, 10], [1, 3])
    assert _parse_sizes("4x2") == ([4], [2], [1])
    with pytest.raises(Exception, match="COPIES x STORES x SKUS"):
        _parse_sizes("4x0")


def test_chain_scenario_splits_demand_over_skus() -> None:
    single, split = chain_scenario(10), chain_scenario(10, 4)
    assert split.n_slots == 40 and split.n_stores == single.n_stores
    assert sum(k.demand_scale for k in split.products) == pytest.approx(1.0)


def _row(copies: int, slots: int, us: float) -> Measurement:
    return Measurement("scaling", "rule", copies, 1, slots, 0, 1.0, slots * 1e6 / us, math.nan, "")


SIZES = [(b, b * n) for b in (1, 16, 1024) for n in (2, 30, 300)]


def test_linear_fit_recovers_overhead_and_costs_per_copy_and_slot() -> None:
    fit = linear_fit([_row(b, n, 100.0 + 0.3e-3 * b + 0.05e-3 * n) for b, n in SIZES])
    assert fit.overhead_us == pytest.approx(100.0, rel=1e-6)
    assert fit.ns_per_copy == pytest.approx(0.3, rel=1e-5)
    assert fit.ns_per_slot == pytest.approx(0.05, rel=1e-5)
    assert fit.worst < 1e-6
    quadratic = linear_fit([_row(b, n, 100.0 + 1e-6 * n * n) for b, n in SIZES])
    assert quadratic.worst > 0.5  # a cost that is not linear in the sizes does not fit


def test_the_tuning_section_reports_candidate_episodes_against_its_target(tmp_path: Path) -> None:
    argv = ["--only-tuning", "--quick", "--seconds", "0.01", "--out", str(tmp_path)]
    assert main(argv) == 0
    frame = pd.read_csv(tmp_path / "speed.csv")
    assert set(frame["section"]) == {"tuning"}
    search = frame[frame["name"].str.startswith("search")].iloc[0]
    assert search["target"] == 10_000 and search["workers"] == 2
    assert (frame["rate"] > 0).all() and (frame["reference_rate"] > 0).all()
    text = (tmp_path / "speed.txt").read_text(encoding="utf-8")
    assert "(e) Tuning" in text and "candidate-episodes" in text
    assert not (tmp_path / "scaling.png").exists()  # only the tuning section ran


def test_quickstart_times_the_run_command_and_fills_the_readme(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- speed:quickstart -->\nold\n<!-- /speed:quickstart -->\nb\n")
    tiny = "--timesteps 256 --n-envs 2 --eval-episodes 2 --hp n_steps=32 --hp batch_size=64"
    argv = ["--quickstart", "--run-args", tiny, "--out", str(tmp_path), "--readme", str(readme)]
    assert main(argv) == 0
    text = (tmp_path / "quickstart.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == f"$ python -m hmarl_bench.run --algo ppo {tiny}"
    assert lines[1].startswith("whole command: ") and "for 256 agent-steps" in lines[1]
    assert "over 2 episodes" in lines[2]
    assert {line.split()[0] for line in lines[3:7]} == {
        "ppo", "seed_ss_actions", "fixed_forecast_actions", "random"
    }  # fmt: skip
    assert readme.read_text(encoding="utf-8") == (
        "a\n<!-- speed:quickstart -->\n```text\n" + text + "```\n<!-- /speed:quickstart -->\nb\n"
    )


def test_quickstart_refuses_a_readme_without_its_markers(tmp_path: Path, capsys) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("<!-- speed:results -->\n<!-- /speed:results -->\n")
    with pytest.raises(SystemExit):
        main(["--quickstart", "--readme", str(readme), "--out", str(tmp_path / "out")])
    assert "speed:quickstart" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--run-args", "--timesteps 5", "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()
