"""Cell fingerprints follow the code and the libraries; unreadable cells are recomputed."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from hmarl_bench import benchmark
from hmarl_bench.config import load_scenario
from hmarl_bench.harness import cells, provenance
from hmarl_bench.harness.spec import benchmark_from_dict


def _spec(name: str = "fp"):
    return benchmark_from_dict(
        {
            "name": name,
            "scenarios": ["default"],
            "baselines": ["seed_ss_actions", "random"],
            "training_seeds": [0],
            "tuning_seeds": [100],
            "validation_seeds": [200],
            "evaluation_seeds": [10000, 10001],
            "algos": [{"name": "ppo", "timesteps": 256, "n_envs": 2}],
            "clairvoyant": {"enabled": False},
        }
    )


@pytest.fixture
def package_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the package's source that the fingerprints read (the code that runs is
    the installed one): editing it stands for editing the package."""
    root = tmp_path / "src" / "hmarl_bench"
    shutil.copytree(provenance.PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_DIR", root)
    return root


def _fingerprints() -> dict[str, str]:
    return {c.cell_id: c.fingerprint for c in cells.build_cells(_spec())}


def _edit(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "stale"),
    [
        ("twin/dynamics.py", {"learner", "baseline"}),
        ("reconciliation.py", {"learner", "baseline"}),
        ("baselines.py", {"baseline"}),
        ("learn/train.py", {"learner"}),
        ("harness/plots.py", set()),
        ("harness/tables.py", set()),
        ("run/__main__.py", set()),
    ],
)
def test_an_edited_module_changes_the_fingerprints_of_the_cells_that_run_it(
    package_copy, module, stale
):
    before = _fingerprints()
    path = package_copy / module
    if not path.is_file():  # a module turned into a package keeps its __init__
        path = package_copy / module.removesuffix(".py") / "__init__.py"
    _edit(path)
    after = _fingerprints()
    changed = {cell_id for cell_id in before if before[cell_id] != after[cell_id]}
    kinds = {"default__ppo__seed0": "learner", "default__seed_ss_actions": "baseline"}
    kinds["default__random"] = "baseline"
    assert {kinds[c] for c in changed} == stale


def test_another_library_version_makes_every_cell_stale(monkeypatch):
    before = _fingerprints()
    versions = {**provenance.library_versions(), "torch": "0.0.1"}
    monkeypatch.setattr(cells, "library_versions", lambda: versions)
    after = _fingerprints()
    assert all(before[c] != after[c] for c in before)


def test_a_stored_cell_goes_stale_when_its_code_changes_and_is_recomputed(
    package_copy, tmp_path, capsys
):
    spec = dataclasses.replace(_spec(), algos=())  # baselines only: fast
    out = tmp_path / "results"
    first = benchmark.run_benchmark(spec, out, progress=False, figures=False)
    assert first.n_ran == 2
    assert benchmark.run_benchmark(spec, out, progress=False, figures=False).n_ran == 0
    _edit(package_copy / "twin" / "dynamics.py")
    store = cells.CellStore(out / spec.name)
    statuses = [store.status(c) for c in cells.build_cells(spec)]
    assert {s.state for s in statuses} == {"stale"}
    assert all("code edited: hmarl_bench.twin.dynamics" in s.reason for s in statuses)
    benchmark.print_status(spec, out / spec.name)
    assert "stale    default__random: code edited: hmarl_bench.twin.dynamics" in (
        capsys.readouterr().out
    )
    again = benchmark.run_benchmark(spec, out, progress=False, figures=False)
    assert again.n_ran == 2
    assert {store.status(c).state for c in cells.build_cells(spec)} == {"current"}


@pytest.mark.parametrize("damage", ["truncate", "garbage", "not a result"])
def test_a_corrupt_cell_file_is_named_and_recomputed(tmp_path, capsys, damage):
    spec = dataclasses.replace(_spec(), algos=(), baselines=("random",))
    out = tmp_path / "results"
    benchmark.run_benchmark(spec, out, progress=False, figures=False)
    (cell,) = cells.build_cells(spec)
    path = cells.CellStore(out / spec.name).result_path(cell)
    text = path.read_text()
    damaged = {"truncate": text[: len(text) // 2], "garbage": "\x00\xff", "not a result": "[1]"}
    path.write_text(damaged[damage], encoding="latin-1")
    capsys.readouterr()
    again = benchmark.run_benchmark(spec, out, progress=False, figures=False)
    err = capsys.readouterr().err
    assert again.n_ran == 1
    assert f"warning: stored cell {path} is corrupt or truncated" in err
    assert err.count("corrupt or truncated") == 1  # once, not per lookup
    assert cells.CellStore(out / spec.name).status(cell).state == "current"


def test_a_stored_result_records_its_fingerprint_parts(tmp_path):
    spec = dataclasses.replace(_spec(), algos=(), baselines=("random",))
    benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    (cell,) = cells.build_cells(spec)
    stored = cells.CellStore(tmp_path / spec.name).load(cell)
    parts = stored["fingerprint_parts"]
    assert set(parts) == {"values", "code", "libraries", "modules"}
    assert "hmarl_bench.twin.dynamics" in parts["modules"]
    assert parts["libraries"]["torch"] == provenance.library_versions()["torch"]


@pytest.mark.parametrize(
    ("interface", "files"),
    [
        ("seed", ("ppo.toml", "warehouse_ppo.toml")),
        ("planner", ("planner_stores_ppo.toml", "planner_warehouse_ppo.toml")),
        ("view", ("view_stores_ppo.toml", "view_warehouse_ppo.toml")),
        ("view:14", ("view_stores_ppo.toml", "view_warehouse_ppo.toml")),
    ],
)
def test_a_learner_cell_fingerprints_its_tracks_hyperparameter_files(
    tmp_path, monkeypatch, interface, files
):
    """Editing a value in the file a learner reads (per track and role) makes its cell stale."""
    source = cells.HYPERPARAM_DIR
    monkeypatch.setattr(cells, "HYPERPARAM_DIR", tmp_path)
    for name in files:
        shutil.copy(source / name, tmp_path / name)
    (cell,) = [
        c
        for c in cells.build_cells(
            benchmark_from_dict(
                {
                    "name": "fp",
                    "scenarios": ["default"],
                    "baselines": ["random"],
                    "training_seeds": [0],
                    "tuning_seeds": [100],
                    "validation_seeds": [200],
                    "evaluation_seeds": [10000],
                    "algos": [
                        {
                            "name": "ppo",
                            "learners": "stores+warehouse",
                            "timesteps": 256,
                            "hyperparams": {"interface": interface},
                        }
                    ],
                    "clairvoyant": {"enabled": False},
                }
            )
        )
        if c.kind == cells.LEARNER
    ]
    before = cells._values_digest(cell, load_scenario("default"))
    for name in files:
        path = tmp_path / name
        path.write_text(path.read_text() + "\nedited_for_the_test = 1\n")
        after = cells._values_digest(cell, load_scenario("default"))
        assert after != before, name
        before = after
