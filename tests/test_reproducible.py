"""Reproducible results folders: the manifest, the ignored run log, --recompute, cells
stored before the tuning-seed scores, and a clean ``git status`` after rerunning."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hmarl_bench import benchmark
from hmarl_bench.evaluation import evaluate
from hmarl_bench.harness.report import IncompleteResults
from hmarl_bench.harness.spec import load_benchmark

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """
name = "{name}"
scenarios = ["default"]
baselines = ["seed_ss_actions", "random", "tuned_ss_free"]
tuning_seeds = [100, 101]
validation_seeds = [200, 201]
evaluation_seeds = [10000, 10001, 10002]
{algos}
[clairvoyant]
enabled = false
[statistics]
n_resamples = 200
"""
TINY_PPO = """training_seeds = [0]
[[algos]]
name = "ppo"
timesteps = 256
n_envs = 2
eval_freq = 128
hyperparams = { n_steps = 32, batch_size = 64, n_epochs = 1 }"""


def _spec(tmp_path: Path, name: str = "prov", algos: str = ""):
    path = tmp_path / f"{name}.toml"
    path.write_text(CONFIG.format(name=name, algos=algos), encoding="utf-8")
    return load_benchmark(path)


def test_baseline_cells_score_their_controller_on_the_tuning_seeds(tmp_path):
    spec = _spec(tmp_path)
    benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    cell = json.loads((tmp_path / "prov" / "cells" / "default__seed_ss_actions.json").read_text())
    rows = cell["info"]["tuning_rows"]
    assert [r["seed"] for r in rows] == [100, 101]
    expected = evaluate("default", None, [100, 101])  # the seed's rule chain
    assert [r["total_cost"] for r in rows] == expected["total_cost"].tolist()
    choice = (tmp_path / "prov" / "tables" / "reference_choice.md").read_text()
    assert "tuned_ss_free" in choice and "reference" in choice


def test_manifest_has_no_time_or_path_and_changes_only_when_cells_run(tmp_path):
    spec = _spec(tmp_path)
    benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    root = tmp_path / "prov"
    manifest = (root / "manifest.json").read_text()
    facts = json.loads(manifest)
    assert facts["config"] == "prov.toml" and facts["config_copy"] == "benchmark.toml"
    assert str(tmp_path) not in manifest and "started_at" not in manifest
    log = json.loads((root / "run_log.json").read_text())
    assert log["ran"] and log["out"] == str(root.resolve()) and "started_at" in log
    tables = {p.name: p.read_bytes() for p in (root / "tables").iterdir()}

    (root / "manifest.json").write_text(manifest + " ")  # a run with nothing to do ...
    again = benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    assert again.n_ran == 0
    assert (root / "manifest.json").read_text() == manifest + " "  # ... leaves it alone
    assert json.loads((root / "run_log.json").read_text())["ran"] == []
    assert {p.name: p.read_bytes() for p in (root / "tables").iterdir()} == tables


def test_recompute_runs_every_cell_again(tmp_path, monkeypatch):
    from hmarl_bench.harness import runners

    spec = _spec(tmp_path)
    benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    calls: list[str] = []
    real = runners.run_cell
    monkeypatch.setattr(runners, "run_cell", lambda cell: calls.append(cell.cell_id) or real(cell))
    summary = benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False, recompute=True)
    assert summary.n_ran == 3 and sorted(calls) == sorted(
        ["default__seed_ss_actions", "default__random", "default__tuned_ss_free"]
    )


def test_recompute_and_only_tables_exclude_each_other(tmp_path, capsys):
    config = tmp_path / "prov.toml"
    config.write_text(CONFIG.format(name="prov", algos=""), encoding="utf-8")
    with pytest.raises(SystemExit):
        benchmark.main([str(config), "--only-tables", "--recompute"])
    assert "choose one" in capsys.readouterr().err


def test_cells_stored_before_tuning_scores_are_refused_then_recomputed(tmp_path, capsys):
    spec = _spec(tmp_path)
    benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    path = tmp_path / "prov" / "cells" / "default__random.json"
    old = json.loads(path.read_text())
    del old["info"]["tuning_rows"]  # as stored by the code before the reference's change
    path.write_text(json.dumps(old))
    with pytest.raises(IncompleteResults, match="default__random.*tuning seeds"):
        benchmark.write_report(spec, tmp_path / "prov", figures=False)
    config = tmp_path / "prov.toml"
    args = [str(config), "--out", str(tmp_path), "--only-tables", "--no-figures"]
    assert benchmark.main(args) == 1
    assert "no scores on the tuning seeds" in capsys.readouterr().err
    summary = benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    assert summary.n_ran == 1  # only the incomplete cell
    assert "tuning_rows" in json.loads(path.read_text())["info"]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _benchmark(repo: Path, *args: str) -> None:
    command = [sys.executable, "-m", "hmarl_bench.benchmark", "bench.toml", "--no-progress"]
    done = subprocess.run([*command, *args], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_rerunning_and_remaking_tables_leave_git_status_clean(tmp_path):
    """The README's commands on a committed results folder, each in a fresh process (new
    hash seeds): a rerun with every cell stored, and --only-tables, change no byte."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(ROOT / ".gitignore", repo / ".gitignore")
    (repo / "bench.toml").write_text(CONFIG.format(name="bench", algos=TINY_PPO))
    _benchmark(repo)
    assert (repo / "results" / "bench" / "run_log.json").is_file()
    assert (repo / "results" / "bench" / "figures" / "learning_curves_1col.pdf").is_file()
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "results")
    assert "run_log.json" not in _git(repo, "ls-files")
    _benchmark(repo)  # every cell stored: runs nothing, rewrites the report
    assert _git(repo, "status", "--porcelain") == ""
    _benchmark(repo, "--only-tables")
    assert _git(repo, "status", "--porcelain") == ""
