"""The benchmark harness: config checks, resumable cells, failures, statistics, outputs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hmarl_bench import benchmark
from hmarl_bench.evaluation import DECIDE_MS
from hmarl_bench.harness import runners as runners_module
from hmarl_bench.harness import stats
from hmarl_bench.harness.spec import BenchmarkError, load_benchmark

BASELINES_ONLY = """
name = "{name}"
scenarios = ["default"]
baselines = ["seed_ss_actions", "random", "order_up_to_actions", "fixed_forecast_actions"]
tuning_seeds = [100]
evaluation_seeds = [10000, 10001, 10002]
{extra}
[clairvoyant]
enabled = false
[statistics]
n_resamples = 200
"""

TINY_FULL = """
name = "tiny"
scenarios = ["default", "supplier_delay"]
baselines = ["seed_ss_actions", "random"]
training_seeds = [0]
tuning_seeds = [100]
validation_seeds = [200]
evaluation_seeds = [10000, 10001]
[[algos]]
name = "ppo"
timesteps = 256
n_envs = 2
eval_freq = 128
hyperparams = {{ n_steps = 32, batch_size = 64, n_epochs = 1 }}
[clairvoyant]
enabled = {clairvoyant}
time_limit = 0.5
[statistics]
n_resamples = 200
"""


def _untimed(root: Path) -> str:
    """headline.csv without the decision time: a wall-clock measurement of each run, the
    one column that differs between two runs of the same cells."""
    headline = pd.read_csv(root / "tables" / "headline.csv")
    deciders = headline["kind"] != "clairvoyant"  # the bound solves, it does not decide
    assert headline.loc[deciders, DECIDE_MS].gt(0).all()
    return headline.drop(columns=DECIDE_MS).to_csv(index=False)


def write_config(tmp_path: Path, text: str, name: str = "bench") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def baselines_only(tmp_path: Path, name: str = "bench", extra: str = ""):
    return load_benchmark(
        write_config(tmp_path, BASELINES_ONLY.format(name=name, extra=extra), name)
    )


@pytest.fixture
def counted_cells(monkeypatch):
    """Count run_cell calls by cell id; optionally interrupt or fail chosen calls."""
    calls: list[str] = []
    plan: dict[str, object] = {"interrupt_at": None, "fail": set()}
    real = runners_module.run_cell

    def run_cell(cell):
        if plan["interrupt_at"] is not None and len(calls) == plan["interrupt_at"]:
            raise KeyboardInterrupt
        calls.append(cell.cell_id)
        if cell.cell_id in plan["fail"]:
            raise RuntimeError(f"boom in {cell.cell_id}")
        return real(cell)

    monkeypatch.setattr(runners_module, "run_cell", run_cell)
    return calls, plan


# ----------------------------------------------------------------------- config


@pytest.mark.parametrize("key", ["training_seeds", "tuning_seeds", "validation_seeds"])
def test_evaluation_seeds_overlapping_other_seeds_are_rejected(tmp_path, key):
    text = BASELINES_ONLY.format(name="bad", extra="").replace("tuning_seeds = [100]", "")
    text = f"{key} = [7, 10001]\n" + text
    match = rf"{key} and evaluation_seeds must be disjoint; both contain \[10001\]"
    with pytest.raises(BenchmarkError, match=match):
        load_benchmark(write_config(tmp_path, text))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ('baselines = ["nope"]', r"baselines\[0\].*unknown baseline 'nope'"),
        ("episodes = 5", "episodes = 5 but there are 3 evaluation_seeds"),
        ("colour = 1", "key 'colour': unknown key"),
        ('scenarios = ["atlantis"]', r"scenarios\[0\].*unknown scenario 'atlantis'"),
    ],
)
def test_bad_config_names_the_key(tmp_path, change, match):
    key = change.split(" =")[0]
    lines = [ln for ln in BASELINES_ONLY.format(name="b", extra="").splitlines()]
    lines = [ln for ln in lines if not ln.startswith(f"{key} =")]
    text = change + "\n" + "\n".join(lines)
    with pytest.raises(BenchmarkError, match=match):
        load_benchmark(write_config(tmp_path, text))


def test_cli_reports_missing_and_bad_configs(tmp_path, capsys):
    assert benchmark.main([str(tmp_path / "missing.toml")]) == 2
    assert "benchmark config not found" in capsys.readouterr().err
    bad = write_config(tmp_path, "name = 'x'\nscenarios = [", "bad")
    assert benchmark.main([str(bad)]) == 2
    assert "malformed TOML" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(["--help"])
    assert exit_info.value.code == 0
    assert "--only-tables" in capsys.readouterr().out


def test_shipped_benchmarks_load():
    default = load_benchmark("default")
    assert len(default.scenarios) == 6 and default.episodes == 20
    assert [a.policy for a in default.algos] == [
        "ppo",
        "maskable_ppo",
        "maskable_ppo-planner",
        "maskable_ppo-planner-critic",
    ]
    assert dict(default.algos[2].hyperparams)["interface"] == "planner"
    assert len(default.training_seeds) >= 5 and default.clairvoyant
    smoke = load_benchmark("smoke")
    assert smoke.algos[0].timesteps <= 4096 and smoke.episodes == 3 and smoke.clairvoyant


# ----------------------------------------------------------------------- statistics


def test_iqm_and_normalized_score_by_hand():
    assert stats.iqm([1, 2, 3, 4, 5, 6, 7, 8]) == pytest.approx(4.5)  # mean of 3..6
    assert stats.iqm([1, 2, 3, 4, 100]) == pytest.approx(3.0)  # one value cut at each end
    assert stats.normalized_score(80.0, random_cost=100.0, bound_cost=60.0) == pytest.approx(0.5)
    assert stats.normalized_score(100.0, 100.0, 60.0) == 0.0
    assert stats.normalized_score(60.0, 100.0, 60.0) == 1.0


def test_probability_of_improvement_is_paired_with_half_ties():
    costs = pd.DataFrame(
        {"training_seed": [0] * 4, "seed": [1, 2, 3, 4], "total_cost": [1.0, 2.0, 3.0, 4.0]}
    )
    reference = pd.Series([2.0, 2.0, 1.0, 5.0], index=[1, 2, 3, 4])
    paired = stats.paired_improvement(costs, reference)
    assert paired["improvement"].tolist() == [1.0, 0.5, 0.0, 1.0]
    assert paired["improvement"].mean() == pytest.approx(0.625)
    # Unpaired (all pairs) it would be 8.5 / 16: pairing matters.
    shuffled = reference.set_axis([2, 3, 4, 1])
    assert stats.paired_improvement(costs, shuffled)["improvement"].mean() != pytest.approx(0.625)


def _episodes(rows):
    frame = pd.DataFrame(rows, columns=["policy", "kind", "training_seed", "seed", "total_cost"])
    frame["scenario"] = "s"
    frame["training_seed"] = frame["training_seed"].astype("Int64")
    return frame


def _tuning(costs: dict[str, list[float]], scenario: str = "s") -> pd.DataFrame:
    """Baselines' total costs on tuning seeds 100, 101, ..."""
    rows = [
        {"scenario": scenario, "policy": policy, "seed": 100 + i, "total_cost": cost}
        for policy, values in costs.items()
        for i, cost in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_summary_mean_std_and_hierarchical_bootstrap():
    # A learner whose seeds differ but whose episodes within a seed agree: all of its
    # uncertainty is seed-to-seed. Resampling the two seeds gives means 10, 20, 30 with
    # probabilities 1/4, 1/2, 1/4, so the 95% interval is [10, 30] (resampling episodes
    # within each seed alone, as rliable's stratified scheme does, would give [20, 20]).
    rows = [("ppo", "learner", s, e, 10.0 + 20.0 * s) for s in (0, 1) for e in (1, 2, 3)]
    rows += [
        ("base", "baseline", None, e, c) for e, c in zip((1, 2, 3), (14.0, 20.0, 26.0), strict=True)
    ]
    summary = stats.summarize(_episodes(rows), metrics=["total_cost"], n_resamples=500)
    ppo = summary.set_index("policy").loc["ppo"]
    assert ppo["mean"] == pytest.approx(20.0) and ppo["n"] == 6 and ppo["n_training_seeds"] == 2
    assert ppo["std"] == pytest.approx(np.std([10.0] * 3 + [30.0] * 3, ddof=1))
    assert (ppo["ci_low"], ppo["ci_high"]) == pytest.approx((10.0, 30.0))
    base = summary.set_index("policy").loc["base"]
    assert base["mean"] == pytest.approx(20.0) and base["std"] == pytest.approx(6.0)
    assert 14.0 <= base["ci_low"] < 20.0 < base["ci_high"] <= 26.0
    again = stats.summarize(_episodes(rows), metrics=["total_cost"], n_resamples=500)
    pd.testing.assert_frame_equal(summary, again)  # a fixed bootstrap seed


def test_headline_gap_score_and_improvement():
    rows = []
    for e, (rnd, base, pol, bound) in enumerate([(100, 90, 80, 60), (100, 90, 85, 60)]):
        rows += [
            ("random", "baseline", None, e, rnd),
            ("rule", "baseline", None, e, base),
            ("ppo", "learner", 0, e, pol),
            ("clairvoyant", "clairvoyant", None, e, bound),
        ]
    episodes = _episodes(rows)
    tuning = _tuning({"random": [100.0, 101.0], "rule": [90.0, 91.0]})
    summary = stats.summarize(episodes, metrics=["total_cost"], n_resamples=200)
    table = stats.headline(episodes, summary, n_resamples=200, tuning=tuning)
    table = table.set_index("policy")
    assert table.loc["ppo", "gap_to_bound_pct"] == pytest.approx(100 * (82.5 - 60) / 60)
    assert table.loc["ppo", "normalized_score"] == pytest.approx((100 - 82.5) / 40)
    assert table.loc["random", "normalized_score"] == 0.0
    assert table.loc["clairvoyant", "normalized_score"] == 1.0
    assert (table["best_baseline"] == "rule").all()
    assert table.loc["ppo", "p_improvement"] == 1.0
    assert table.loc["rule", "p_improvement"] == 0.5  # against itself: all ties
    assert table.loc["random", "p_improvement"] == 0.0


# ----------------------------------------------------------------------- running


def test_resume_after_interrupt_skips_finished_cells(tmp_path, counted_cells):
    calls, plan = counted_cells
    spec = baselines_only(tmp_path)
    out = tmp_path / "out"
    plan["interrupt_at"] = 2
    with pytest.raises(KeyboardInterrupt):
        benchmark.run_benchmark(spec, out, progress=False, figures=False)
    cells_dir = out / spec.name / "cells"
    finished = sorted(cells_dir.glob("*.json"))
    assert [p.stem for p in finished] == sorted(calls) and len(calls) == 2
    mtimes = {p: p.stat().st_mtime_ns for p in finished}
    assert not list(cells_dir.glob("*.tmp"))  # nothing half-written

    calls.clear()
    plan["interrupt_at"] = None
    summary = benchmark.run_benchmark(spec, out, progress=False, figures=False)
    assert summary.n_skipped == 2 and summary.n_ran == 2 and not summary.failed
    assert len(calls) == 2 and not set(calls) & {p.stem for p in finished}
    assert all(p.stat().st_mtime_ns == t for p, t in mtimes.items())

    fresh = benchmark.run_benchmark(spec, tmp_path / "fresh", progress=False, figures=False)
    assert fresh.n_ran == 4
    for name in ("per_seed.csv", "summary.csv", "per_seed.tex"):
        resumed = (out / spec.name / "tables" / name).read_bytes()
        assert resumed == (tmp_path / "fresh" / spec.name / "tables" / name).read_bytes()
    assert _untimed(out / spec.name) == _untimed(tmp_path / "fresh" / spec.name)

    calls.clear()
    benchmark.run_benchmark(spec, out, progress=False, figures=False)
    assert calls == []  # everything stored: nothing runs


def test_failing_cell_is_recorded_others_finish_and_it_is_retried(tmp_path, counted_cells):
    calls, plan = counted_cells
    spec = baselines_only(tmp_path)
    out = tmp_path / "out"
    plan["fail"] = {"default__random"}
    summary = benchmark.run_benchmark(spec, out, progress=False, figures=False)
    assert summary.failed == ["default__random"] and len(calls) == 4
    cells_dir = out / spec.name / "cells"
    error = json.loads((cells_dir / "default__random.error.json").read_text())
    assert "RuntimeError: boom in default__random" in error["error"]
    assert "Traceback" in error["traceback"] and "boom" in error["traceback"]
    assert not (cells_dir / "default__random.json").exists()
    # no tables without 'random' (they would blank every normalized score): one line says so
    assert "cell default__random is failed" in summary.tables_error
    assert not (out / spec.name / "tables" / "headline.csv").exists()
    # nor partial ones: the reference is chosen among all baselines, 'random' included
    partial = benchmark.run_benchmark(spec, out, progress=False, figures=False, allow_missing=True)
    assert partial.failed == ["default__random"]
    assert "reference of scenario 'default'" in partial.tables_error

    calls.clear()
    plan["fail"] = set()
    summary = benchmark.run_benchmark(spec, out, progress=False, figures=False)
    assert calls == ["default__random"] and not summary.failed
    assert not (cells_dir / "default__random.error.json").exists()
    assert "random" in set(pd.read_csv(out / spec.name / "tables" / "headline.csv")["policy"])


def test_changed_config_recomputes_stale_cells(tmp_path, counted_cells):
    calls, _ = counted_cells
    spec = baselines_only(tmp_path)
    benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    calls.clear()
    changed = dataclasses.replace(spec, evaluation_seeds=(10000, 10001, 10003))
    benchmark.run_benchmark(changed, tmp_path, progress=False, figures=False)
    assert len(calls) == 4
    per_seed = pd.read_csv(tmp_path / spec.name / "tables" / "per_seed.csv")
    assert sorted(per_seed["seed"].unique()) == [10000, 10001, 10003]


def test_process_pool_gives_the_same_tables_as_in_process(tmp_path):
    spec = baselines_only(tmp_path)
    benchmark.run_benchmark(spec, tmp_path / "one", workers=1, progress=False, figures=False)
    summary = benchmark.run_benchmark(
        spec, tmp_path / "two", workers=2, progress=False, figures=False
    )
    assert summary.n_ran == 4 and not summary.failed
    assert _untimed(tmp_path / "one" / spec.name) == _untimed(tmp_path / "two" / spec.name)


def test_learners_bound_tables_and_figures_are_written(tmp_path):
    spec = load_benchmark(write_config(tmp_path, TINY_FULL.format(clairvoyant="true"), "tiny"))
    summary = benchmark.run_benchmark(spec, tmp_path, progress=False)
    assert not summary.failed and summary.n_ran == 8
    root = tmp_path / "tiny"
    learner = json.loads((root / "cells" / "default__ppo__seed0.json").read_text())
    assert [r["seed"] for r in learner["rows"]] == [10000, 10001]
    assert learner["learning_curve"][0]["timesteps"] == 0 and len(learner["learning_curve"]) >= 2
    assert (root / "models" / "default__ppo__seed0.zip").stat().st_size > 0
    tables = {p.name for p in (root / "tables").iterdir()}
    assert {"headline.csv", "headline.md", "headline.tex", "per_seed.csv", "per_seed.md"} <= tables
    assert {
        "headline_full.md",
        "aggregate.md",
        "aggregate.csv",
        "performance_profile.csv",
    } <= tables
    aggregate = pd.read_csv(root / "tables" / "aggregate.csv").set_index("policy")
    assert (aggregate["n_scenarios"] == 2).all() and aggregate.loc["ppo", "n_runs"] == 2
    assert {
        "per_seed.tex",
        "summary.csv",
        "learning_curves.csv",
        "clairvoyant_solves.csv",
    } <= tables
    tex = (root / "tables" / "headline.tex").read_text()
    assert all(rule in tex for rule in (r"\toprule", r"\midrule", r"\bottomrule"))
    assert r"seed\_ss\_actions" in tex
    headline = pd.read_csv(root / "tables" / "headline.csv")
    assert len(headline) == 2 * 4  # 2 scenarios x (ppo, 2 baselines, clairvoyant)
    bound = headline[headline["policy"] == "clairvoyant"]
    assert (bound["normalized_score"] == 1.0).all() and (bound["gap_to_bound_pct"] == 0).all()
    figures = {p.name for p in (root / "figures").iterdir() if p.stat().st_size > 1000}
    for stem in ("total_cost", "cost_breakdown", "service_vs_cost", "per_seed", "aggregate"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= figures
    assert {"learning_curves.png", "episode_default.png", "episode_supplier_delay.pdf"} <= figures


def test_cli_runs_and_only_tables_remakes(tmp_path, capsys):
    config = write_config(tmp_path, BASELINES_ONLY.format(name="cli", extra=""), "cli")
    args = [str(config), "--out", str(tmp_path), "--no-progress", "--no-figures"]
    assert benchmark.main(args) == 0
    out = capsys.readouterr().out
    assert "4 cells (0 already stored, 4 run, 0 failed)" in out and "| default |" in out
    headline = tmp_path / "cli" / "tables" / "headline.md"
    headline.unlink()
    assert benchmark.main([*args, "--only-tables"]) == 0
    assert headline.stat().st_size > 0
    with pytest.raises(SystemExit):  # --address is for the ray executor
        benchmark.main([str(config), "--address", "auto"])
    assert "--address needs --executor ray" in capsys.readouterr().err


@pytest.mark.slow
def test_smoke_on_ray_matches_local_executor(tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'hmarl_bench[ray]')")
    # The clairvoyant MILPs stop on a wall-clock limit, so their bound is not reproducible
    # run to run; everything else must match to the byte.
    spec = dataclasses.replace(load_benchmark("smoke"), clairvoyant=False)
    benchmark.run_benchmark(spec, tmp_path / "local", progress=False, figures=False)
    summary = benchmark.run_benchmark(
        spec, tmp_path / "ray", executor="ray", workers=2, progress=False, figures=False
    )
    assert not summary.failed
    local = (tmp_path / "local" / "smoke" / "tables" / "per_seed.csv").read_bytes()
    assert local == (tmp_path / "ray" / "smoke" / "tables" / "per_seed.csv").read_bytes()
    assert _untimed(tmp_path / "local" / "smoke") == _untimed(tmp_path / "ray" / "smoke")


def test_bad_hyperparameter_override_fails_before_any_cell_runs(tmp_path, counted_cells):
    calls, _ = counted_cells
    text = TINY_FULL.format(clairvoyant="false").replace("n_epochs = 1", "n_epochz = 1")
    spec = load_benchmark(write_config(tmp_path, text, "tiny"))
    with pytest.raises(BenchmarkError, match=r"algos\[0\].hyperparams.*n_epochz"):
        benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    assert calls == []


def test_reuse_copies_cells_with_the_same_fingerprint_and_runs_the_rest(tmp_path, counted_cells):
    calls, _ = counted_cells
    first = baselines_only(tmp_path, name="first")
    benchmark.run_benchmark(first, tmp_path / "out", progress=False, figures=False)
    source = tmp_path / "out" / "first"
    # a second benchmark: the same cells but for one whose evaluation seeds differ
    second = dataclasses.replace(
        baselines_only(tmp_path, name="second"), baselines=("seed_ss_actions", "random")
    )
    other = dataclasses.replace(second, name="third", evaluation_seeds=(10000, 10001, 10003))
    calls.clear()
    summary = benchmark.run_benchmark(
        second, tmp_path / "out", progress=False, figures=False, reuse_from=[source]
    )
    assert calls == [] and summary.n_reused == 2 and summary.n_ran == 0
    for cell in ("default__seed_ss_actions", "default__random"):
        copied = tmp_path / "out" / "second" / "cells" / f"{cell}.json"
        assert copied.read_bytes() == (source / "cells" / f"{cell}.json").read_bytes()
    summary = benchmark.run_benchmark(
        other, tmp_path / "out", progress=False, figures=False, reuse_from=[source]
    )
    assert summary.n_reused == 0 and sorted(calls) == [
        "default__random",
        "default__seed_ss_actions",
    ]


def test_status_with_reuse_from_marks_the_copies_and_leaves_them_out_of_the_estimate(
    tmp_path, capsys
):
    first = dataclasses.replace(
        baselines_only(tmp_path, name="first"), baselines=("seed_ss_actions",)
    )
    benchmark.run_benchmark(first, tmp_path / "out", progress=False, figures=False)
    source = tmp_path / "out" / "first"
    second = dataclasses.replace(
        baselines_only(tmp_path, name="second"), baselines=("seed_ss_actions", "random")
    )
    root = tmp_path / "out" / "second"
    assert benchmark.print_status(second, root, reuse_from=[source]) == 2  # neither current
    out = capsys.readouterr().out
    (copied,) = [line for line in out.splitlines() if "default__seed_ss_actions" in line]
    assert f"current in {source}: --reuse-from copies it" in copied
    assert f"to copy: 1 cells current in {source}" in out
    assert "to run: 1 cells" in out  # the random rule only
    assert "--reuse-from" not in [ln for ln in out.splitlines() if "default__random" in ln][0]
    assert not root.exists()  # --status copies nothing
    benchmark.print_status(second, root)
    assert "to run: 2 cells" in capsys.readouterr().out


def test_reuse_from_needs_a_results_folder(tmp_path, capsys):
    config = write_config(tmp_path, BASELINES_ONLY.format(name="b", extra=""), "b")
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main([str(config), "--reuse-from", str(tmp_path / "nope")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "no cells folder" in err and "Traceback" not in err and err.count("\n") == 1


def test_the_progress_bar_keeps_moving_while_a_long_cell_runs(tmp_path, monkeypatch, capsys):
    """An hour-long cell (the MILP's) must not leave the bar frozen: a heartbeat redraws it
    while cells run, and stops with the run."""
    import threading

    from hmarl_bench.harness.executors import LocalExecutor

    redrawn = threading.Event()
    refreshes: list[int] = []

    class CountingBar(benchmark.tqdm):
        def refresh(self, *args, **kwargs):
            refreshes.append(1)
            if len(refreshes) >= 3:
                redrawn.set()
            return super().refresh(*args, **kwargs)

    class SlowExecutor:  # a cell that only finishes once the bar was redrawn meanwhile
        def run(self, cells, on_outcome):
            assert redrawn.wait(10.0), "the bar was not redrawn while the cells ran"
            LocalExecutor(1).run(cells, on_outcome)

    monkeypatch.setattr(benchmark, "tqdm", CountingBar)
    monkeypatch.setattr(benchmark, "HEARTBEAT_SECONDS", 0.01)
    spec = baselines_only(tmp_path)
    summary = benchmark.run_benchmark(spec, tmp_path / "out", SlowExecutor(), figures=False)
    assert summary.n_ran == 4 and not summary.failed
    assert "4 to run" in capsys.readouterr().err
    assert not [t for t in threading.enumerate() if t.name == "progress-heartbeat"]


def test_a_run_that_starts_keeps_the_partial_mark_of_the_tables_in_place(tmp_path):
    # Partial tables stay partial until a run remakes them: a run that starts (and is
    # stopped before its tables) must not erase their mark or the plotting versions.
    from hmarl_bench.harness import manifest

    spec = baselines_only(tmp_path)
    root = tmp_path / "out" / spec.name
    manifest.write_manifest(spec, root)
    manifest.mark_partial(root, "2 of 4 cells not current")
    manifest.record_plotting(root, {"matplotlib": "x"})
    manifest.write_manifest(spec, root)  # the next run starts
    kept = json.loads((root / "manifest.json").read_text())
    assert kept["partial"] == "2 of 4 cells not current"
    assert kept["plotting"] == {"matplotlib": "x"}
    assert kept["benchmark"] == spec.name and "versions" in kept
    manifest.mark_partial(root, "")  # complete tables clear it
    assert "partial" not in json.loads((root / "manifest.json").read_text())


def test_only_runs_the_cells_its_patterns_match(tmp_path, counted_cells, capsys):
    """--only runs just the matching cells (the others stay missing, so no tables yet, and
    that is not an error); a pattern matching nothing is refused before anything runs."""
    calls, _ = counted_cells
    config = write_config(tmp_path, BASELINES_ONLY.format(name="b", extra=""), "b")
    out = tmp_path / "out"
    code = benchmark.main(
        [str(config), "--out", str(out), "--no-progress", "--no-figures",
         "--only", "*random", "default__seed_ss*"]
    )  # fmt: skip
    assert code == 0 and sorted(calls) == ["default__random", "default__seed_ss_actions"]
    printed = capsys.readouterr().out
    assert "2 cells selected by --only" in printed and "no tables:" in printed
    assert not (out / "b" / "tables" / "headline.md").exists()
    assert benchmark.main([str(config), "--out", str(out), "--status", "--only", "*random"]) == 0
    status = capsys.readouterr().out
    assert "1 current" in status and "missing" not in status
    assert benchmark.main([str(config), "--out", str(out), "--status"]) == 1
    status = capsys.readouterr().out
    assert "2 missing" in status
    assert "to run: 2 cells, no estimate" in status and "2 of them with no stored time" in status
    calls.clear()
    code = benchmark.main([str(config), "--out", str(out), "--only", "*__hdpo__*"])
    err = capsys.readouterr().err
    assert code == 2 and calls == [] and err.count("\n") == 1
    assert "'*__hdpo__*' matches no cell" in err and "default__seed_ss_actions" in err
    # the rest, then the tables
    assert benchmark.main([str(config), "--out", str(out), "--no-progress", "--no-figures"]) == 0
    assert sorted(calls) == ["default__fixed_forecast_actions", "default__order_up_to_actions"]
    assert (out / "b" / "tables" / "headline.md").is_file()
    # a stale cell's estimate is its own last time (two hours here)
    path = out / "b" / "cells" / "default__random.json"
    stored = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**stored, "fingerprint": "old", "seconds": 7200.0}), "utf-8")
    capsys.readouterr()
    assert benchmark.main([str(config), "--out", str(out), "--status"]) == 1
    status = capsys.readouterr().out
    assert "to run: 1 cells, about 2.0 CPU-hours" in status and "rough" not in status
    # stored for other evaluation seeds: still its own time, but said to be a rough guide
    other = {**stored["cell"], "evaluation_seeds": [*stored["cell"]["evaluation_seeds"], 999]}
    stored = {**stored, "fingerprint": "old", "seconds": 7200.0, "cell": other}
    path.write_text(json.dumps(stored), "utf-8")
    assert benchmark.main([str(config), "--out", str(out), "--status"]) == 1
    status = capsys.readouterr().out
    assert "about 2.0 CPU-hours" in status
    assert "1 of them from cells stored for other seeds or budgets, a rough guide" in status
