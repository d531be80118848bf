"""Tables only from complete, current cells; --allow-missing marks them partial; --status
exits non-zero while a cell is not current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hmarl_bench import benchmark
from hmarl_bench.harness.spec import load_benchmark

CONFIG = """
name = "gate"
scenarios = ["default"]
baselines = ["seed_ss_actions", "random"]
tuning_seeds = [100]
evaluation_seeds = [10000, 10001]
[[external]]
name = "cover_rule"
factory = "experiments.policies.cover_rule:make_controller"
[clairvoyant]
enabled = false
[statistics]
n_resamples = 100
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[Path, Path]:
    """A finished benchmark (config, results folder); tests copy it before changing it."""
    base = tmp_path_factory.mktemp("gate")
    config = base / "gate.toml"
    config.write_text(CONFIG, encoding="utf-8")
    summary = benchmark.run_benchmark(load_benchmark(config), base, progress=False, figures=False)
    assert not summary.failed and not summary.tables_error
    return config, base


def _copy(stored: tuple[Path, Path], tmp_path: Path) -> tuple[list[str], Path]:
    import shutil

    config, base = stored
    shutil.copytree(base / "gate", tmp_path / "gate")
    args = [str(config), "--out", str(tmp_path), "--no-figures", "--no-progress"]
    return args, tmp_path / "gate"


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("damage", "state"),
    [
        (lambda p: p.unlink(), "missing"),
        (lambda p: p.write_text('{"rows": [1, 2'), "corrupt"),
        (
            lambda p: p.write_text(p.read_text().replace('"fingerprint": "', '"fingerprint": "x')),
            "stale",
        ),
        (lambda p: p.rename(p.with_name(p.name.replace(".json", ".error.json"))), "failed"),
    ],
)
def test_only_tables_refuses_a_cell_that_is_not_current(stored, tmp_path, capsys, damage, state):
    args, root = _copy(stored, tmp_path)
    headline = (root / "tables" / "headline.csv").read_bytes()
    damage(root / "cells" / "default__seed_ss_actions.json")  # the reference
    capsys.readouterr()
    assert benchmark.main([*args, "--only-tables"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert f"cell default__seed_ss_actions is {state}" in line
    assert f"python -m hmarl_bench.benchmark {args[0]} --out {tmp_path}" in line
    assert (root / "tables" / "headline.csv").read_bytes() == headline  # left as it was


def test_a_missing_reference_is_refused_even_with_allow_missing(stored, tmp_path, capsys):
    args, root = _copy(stored, tmp_path)
    (root / "cells" / "default__seed_ss_actions.json").unlink()
    capsys.readouterr()
    assert benchmark.main([*args, "--only-tables", "--allow-missing"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "default__seed_ss_actions is missing" in line and "reference" in line


def test_allow_missing_marks_the_tables_and_manifest_partial(stored, tmp_path, capsys):
    args, root = _copy(stored, tmp_path)
    (root / "cells" / "default__cover_rule.json").write_text("{truncated")
    assert benchmark.main([*args, "--only-tables"]) == 1
    assert benchmark.main([*args, "--only-tables", "--allow-missing"]) == 0
    assert "partial results: 1 of 3 cells" in capsys.readouterr().err
    text = (root / "tables" / "headline.md").read_text()
    assert "Partial results" in text and "default__cover_rule" in text
    assert "| cover_rule |" not in text
    manifest = json.loads((root / "manifest.json").read_text())
    assert "default__cover_rule" in manifest["partial"]
    assert str(tmp_path) not in manifest["partial"]  # no paths in a committed file
    # a run completes the cell; complete tables clear both marks
    assert benchmark.main(args) == 0
    assert "Partial" not in (root / "tables" / "headline.md").read_text()
    assert "partial" not in json.loads((root / "manifest.json").read_text())


def test_a_run_with_a_failed_cell_makes_no_tables(stored, tmp_path, capsys, monkeypatch):
    from hmarl_bench.harness import runners

    args, root = _copy(stored, tmp_path)
    (root / "cells" / "default__random.json").unlink()
    (root / "tables" / "headline.csv").unlink()
    real = runners.run_cell

    def run_cell(cell):
        if cell.cell_id == "default__random":
            raise RuntimeError("boom")
        return real(cell)

    monkeypatch.setattr(runners, "run_cell", run_cell)
    assert benchmark.main(args) == 1
    err = capsys.readouterr().err
    assert "cell default__random is failed" in err.splitlines()[-1]
    assert not (root / "tables" / "headline.csv").exists()


def test_status_exits_non_zero_unless_every_cell_is_current(stored, tmp_path, capsys):
    args, root = _copy(stored, tmp_path)
    assert benchmark.main([*args, "--status"]) == 0
    assert "3 current" in capsys.readouterr().out
    (root / "cells" / "default__random.json").unlink()
    assert benchmark.main([*args, "--status"]) == 1
    out = capsys.readouterr().out
    assert "missing  default__random" in out and "2 current, 1 missing" in out


def test_partial_tables_leave_out_a_learner_until_all_its_seeds_are_current(tmp_path, capsys):
    # A verdict over some of a learner's configured training seeds is not the benchmark's:
    # partial tables leave the learner out of that scenario whole, and say so.
    learner = Path(__file__).resolve().parents[1] / "experiments/learners/example_learner.py"
    config = tmp_path / "seeds.toml"
    config.write_text(
        CONFIG.replace('name = "gate"', 'name = "seeds"').replace(
            "[[external]]",
            f'training_seeds = [0, 1]\nvalidation_seeds = [200]\n[[algos]]\nlearner = "{learner}'
            ':ExampleLearner"\nlabel = "example"\noptions = { multipliers = [0.9, 1.1] }\n'
            "[[external]]",
        ),
        encoding="utf-8",
    )
    args = [str(config), "--out", str(tmp_path), "--no-figures", "--no-progress"]
    assert benchmark.main(args) == 0
    root = tmp_path / "seeds"
    assert "| example |" in (root / "tables" / "headline.md").read_text()
    (root / "cells" / "default__example__seed1.json").unlink()
    capsys.readouterr()
    assert benchmark.main([*args, "--only-tables", "--allow-missing"]) == 0
    text = (root / "tables" / "headline.md").read_text()
    assert "| example |" not in text and "| cover_rule |" in text  # seed 0 alone: left out
    assert "until all its training seeds are current" in text
