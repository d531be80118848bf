"""The learner registry: names and import paths resolve to learners, bad ones fail early in
one line, the harness runs every learner cell through it (rows as the training functions
give them), and a user's learner runs end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hmarl_bench import benchmark
from hmarl_bench.config import load_scenario
from hmarl_bench.evaluation import DECIDE_MS, ModelStores, RoleController, evaluate
from hmarl_bench.harness import cells, provenance
from hmarl_bench.harness.runners import run_cell
from hmarl_bench.harness.spec import BenchmarkError, benchmark_from_dict, load_benchmark
from hmarl_bench.harness.traces import rows_of
from hmarl_bench.learn import registry
from hmarl_bench.learn.registry import LearnerError, check_learner, resolve_learner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "experiments" / "learners" / "example_learner.py"


def _tiny(algos: list[dict], **changes) -> dict:
    data = {
        "name": "tiny_registry",
        "scenarios": ["default"],
        "training_seeds": [0],
        "tuning_seeds": [100, 101],
        "validation_seeds": [200, 201],
        "evaluation_seeds": [10000, 10001],
        "algos": algos,
        "tuning": {"candidate_episodes": 200, "seed": 0},
        "clairvoyant": {"enabled": False},
        "statistics": {"n_resamples": 200},
    }
    data.update(changes)
    return data


# --------------------------------------------------------------------------- resolution


@pytest.mark.parametrize("name", ["stores", "rounds", "residual"])
def test_every_registered_learner_resolves_to_an_object_that_trains(name):
    assert name in registry.learner_names()
    learner = resolve_learner(name)
    assert callable(learner.train) and callable(learner.check)
    assert registry.learner_module(name) == registry.LEARNERS[name].split(":")[0]


def test_a_learner_by_file_path_and_by_module_path(tmp_path, monkeypatch):
    by_file = resolve_learner(f"{EXAMPLE}:ExampleLearner")
    assert type(by_file).__name__ == "ExampleLearner"  # a class is instantiated
    (tmp_path / "my_learners.py").write_text(EXAMPLE.read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    by_module = resolve_learner("my_learners:ExampleLearner")
    assert type(by_module).__name__ == "ExampleLearner"
    assert registry.learner_module("my_learners:ExampleLearner") == "my_learners"
    assert registry.learner_module(f"{EXAMPLE}:ExampleLearner") == str(EXAMPLE)


@pytest.mark.parametrize(
    ("reference", "match"),
    [
        ("hdpox", "unknown learner 'hdpox'; registered: stores, rounds, residual"),
        ("no_such_module_xyz:Learner", "cannot find learner module 'no_such_module_xyz'"),
        ("json:NoSuchThing", "has no attribute 'NoSuchThing'"),
        ("json:dumps", "has no train\\(task\\) method"),
        ("not a path:x", "unknown learner"),
        ("missing_dir/learner.py:Learner", "learner file not found"),
    ],
)
def test_bad_learners_fail_in_one_line(reference, match):
    with pytest.raises(LearnerError, match=match) as err:
        resolve_learner(reference)
    assert "\n" not in str(err.value)


def test_a_relative_file_path_is_taken_from_the_configs_folder(tmp_path):
    (tmp_path / "mine.py").write_text(EXAMPLE.read_text())
    assert (
        check_learner("mine.py:ExampleLearner", tmp_path)
        == f"{tmp_path / 'mine.py'}:ExampleLearner"
    )
    with pytest.raises(LearnerError, match="not found"):
        check_learner("absent.py:ExampleLearner", tmp_path)


# --------------------------------------------------------------------------- spec


@pytest.mark.parametrize(
    ("entry", "key", "match"),
    [
        ({"learner": "hdpox"}, "algos[0].learner", "registered: stores, rounds, residual"),
        ({"learner": "no_such_module_xyz:L"}, "algos[0].learner", "cannot find learner module"),
        ({"learner": "stores", "name": "her"}, "algos[0].name", "unknown algo 'her'"),
        ({"learner": "rounds", "learners": "warehouse"}, "algos[0].learners", "give it in options"),
        ({"learner": "stores", "options": 3}, "algos[0].options", "table"),
        ({"name": "ppo", "timesteps": 64, "options": {"a": 1}}, "algos[0].options", "learner"),
    ],
)
def test_bad_learner_entries_name_the_key(entry, key, match):
    with pytest.raises(BenchmarkError, match=match) as err:
        benchmark_from_dict(_tiny([entry]))
    assert err.value.key == key and "\n" not in str(err.value)


def test_legacy_entries_keep_their_labels_and_map_to_registered_learners():
    spec = benchmark_from_dict(
        _tiny(
            [
                {"name": "ppo", "timesteps": 64},
                {"name": "ppo", "learners": "stores", "timesteps": 64},
                {"name": "ppo", "learners": "warehouse", "rounds": 2, "timesteps": 64},
                {"name": "ppo", "learners": "residual", "timesteps": 64},
                {"learner": "rounds", "label": "mine", "options": {"learners": "supplier"}},
            ]
        )
    )
    got = [(a.policy, a.learner) for a in spec.algos]
    assert got == [
        ("ppo", "stores"),
        ("ppo-stores", "stores"),
        ("ppo-warehouse-r2", "rounds"),
        ("ppo-residual", "residual"),
        ("mine", "rounds"),
    ]
    assert dict(spec.algos[2].options) == {
        "learners": ("warehouse",),
        "rounds": 2,
        "timesteps": {"warehouse": 64},
    }
    assert spec.algos[4].learners == ("supplier",)


def test_an_attribute_without_train_fails_before_any_cell_runs(tmp_path):
    module = tmp_path / "broken.py"
    module.write_text("class NotALearner:\n    def fit(self, task):\n        return None\n")
    spec = benchmark_from_dict(_tiny([{"learner": f"{module}:NotALearner", "label": "x"}]))
    with pytest.raises(BenchmarkError, match="has no train") as err:
        benchmark.run_benchmark(spec, tmp_path / "out", progress=False, figures=False)
    assert err.value.key == "algos[0].learner"
    assert not (tmp_path / "out" / "tiny_registry" / "cells").exists()


def test_a_learner_that_returns_no_controller_fails_its_cell_in_one_line(tmp_path):
    (tmp_path / "pkg_empty.py").write_text(
        "import types\nLEARNER = types.SimpleNamespace(train=lambda task: {'rows': []})\n"
    )
    spec = benchmark_from_dict(
        _tiny([{"learner": f"{tmp_path / 'pkg_empty.py'}:LEARNER", "label": "x"}])
    )
    summary = benchmark.run_benchmark(spec, tmp_path / "b", progress=False, figures=False)
    assert summary.failed
    (cell,) = cells.build_cells(spec)
    error = cells.CellStore(tmp_path / "b" / "tiny_registry").error(cell)["error"]
    assert "pkg_empty.py:LEARNER" in error and "without a controller" in error
    assert "\n" not in error


# --------------------------------------------------------------------------- end to end


def test_the_example_learner_runs_end_to_end_through_the_harness(tmp_path):
    spec = load_benchmark(ROOT / "tests" / "data" / "example_learner.toml")
    summary = benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    assert not summary.failed, summary.failed
    root = tmp_path / "example_learner"
    cell = json.loads((root / "cells" / "default__example__seed0.json").read_text())
    assert cell["info"]["multiplier"] in (0.8, 1.0, 1.2, 1.4)
    assert [r["seed"] for r in cell["rows"]] == [10000, 10001, 10002]
    curve = cell["learning_curve"]
    assert [r["timesteps"] for r in curve] == [1, 2, 3, 4]
    assert all(r["mean_total_cost"] == r["validation_cost"] for r in curve)
    assert {r["target_scenario"] for r in cell["transfer"]} == {"three_stores"}
    assert "learner:" + str(EXAMPLE) in cell["fingerprint_parts"]["modules"]
    assert "example" in (root / "tables" / "headline.csv").read_text()


def test_a_users_learner_source_enters_its_cells_fingerprint(tmp_path):
    copy = tmp_path / "mine.py"
    copy.write_text(EXAMPLE.read_text())
    data = _tiny([{"learner": f"{copy}:ExampleLearner", "label": "mine"}], baselines=["random"])
    before = {c.cell_id: c.fingerprint for c in cells.build_cells(benchmark_from_dict(data))}
    copy.write_text(copy.read_text() + "\n# edited\n")
    after = {c.cell_id: c.fingerprint for c in cells.build_cells(benchmark_from_dict(data))}
    assert before["default__mine__seed0"] != after["default__mine__seed0"]
    assert before["default__random"] == after["default__random"]


def test_every_registered_learners_module_is_hashed_by_its_cells():
    """The runner imports learners dynamically (invisible to the static graph), so each
    registered learner's module must be a package module whose closure the cells add."""
    runner = set(cells.code_modules(cells.LEARNER))
    for name in registry.learner_names():
        module = registry.learner_module(name)
        assert module in provenance.import_graph().files
        assert module not in runner  # reached only through the cell's own root
        assert module in cells.learner_modules(module)


@pytest.fixture
def package_copy(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "src" / "hmarl_bench"
    shutil.copytree(provenance.PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_DIR", root)
    return root


@pytest.mark.parametrize(
    ("module", "stale"),
    [
        ("learn/store_learner.py", {"default__ppo__seed0"}),
        ("learn/train.py", {"default__ppo__seed0", "default__ppo-warehouse__seed0",
                            "default__ppo-residual__seed0"}),
        ("learn/rounds.py", {"default__ppo-warehouse__seed0"}),
        ("learn/residual.py", {"default__ppo-residual__seed0"}),
        ("learn/registry.py", {"default__ppo__seed0", "default__ppo-warehouse__seed0",
                               "default__ppo-residual__seed0"}),
    ],
)  # fmt: skip
def test_a_learner_cell_hashes_its_learners_module_the_runner_imports_dynamically(
    package_copy, module, stale
):
    data = _tiny(
        [
            {"name": "ppo", "timesteps": 64},
            {"name": "ppo", "learners": "warehouse", "timesteps": 64},
            {"name": "ppo", "learners": "residual", "timesteps": 64},
        ],
        baselines=["random"],
    )
    before = {c.cell_id: c.fingerprint for c in cells.build_cells(benchmark_from_dict(data))}
    path = package_copy / module
    path.write_text(path.read_text() + "\n# edited\n")
    after = {c.cell_id: c.fingerprint for c in cells.build_cells(benchmark_from_dict(data))}
    assert {c for c in before if before[c] != after[c]} == stale


# --------------------------------------------------------------------------- same rows


def _strip(info: dict) -> dict:
    """``info`` without what the clock measures (train seconds, decision time)."""
    return {k: v for k, v in info.items() if "seconds" not in k and k != DECIDE_MS}


def _cell(entry: dict) -> cells.Cell:
    (cell,) = cells.build_cells(benchmark_from_dict(_tiny([entry])))
    return cell


def test_the_store_learner_cell_gives_the_rows_of_train_store_policy():
    from hmarl_bench.learn.train import train_store_policy

    entry = {"name": "ppo", "timesteps": 256, "n_envs": 2, "eval_freq": 128,
             "hyperparams": {"n_steps": 64, "batch_size": 128, "n_epochs": 1}}  # fmt: skip
    result = run_cell(_cell(entry))
    scenario = load_scenario("default")
    trained = train_store_policy(
        scenario, algo="ppo", timesteps=256, seed=0, n_envs=2,
        hyperparams={"n_steps": 64, "batch_size": 128, "n_epochs": 1},
        eval_seeds=(200, 201), eval_freq=128,
    )  # fmt: skip
    frame = evaluate(scenario, RoleController(stores=ModelStores(trained.model)), (10000, 10001))
    assert result["rows"] == rows_of(frame)
    assert result["learning_curve"] == rows_of(trained.learning_curve)
    assert _strip(result["info"]) == {"timesteps": 256, "timesteps_requested": 256}


def test_a_role_learner_cell_gives_the_rows_of_train_rounds():
    from hmarl_bench.learn.hierarchy import parse_learners
    from hmarl_bench.learn.rounds import round_summary, train_rounds

    hyper = {"n_steps": 64, "batch_size": 64, "n_epochs": 1}
    entry = {"name": "ppo", "learners": "warehouse", "timesteps": 128, "n_envs": 2,
             "eval_freq": 64, "hyperparams": hyper}  # fmt: skip
    result = run_cell(_cell(entry))
    scenario = load_scenario("default")
    results = train_rounds(
        scenario, parse_learners("warehouse"), algo="ppo", seed=0, timesteps={"warehouse": 128},
        n_envs=2, hyperparams=hyper, validation_seeds=(200, 201), eval_seeds=(10000, 10001),
        eval_freq=64,
    )  # fmt: skip
    frame = evaluate(scenario, results[-1].policies.controller(scenario), (10000, 10001))
    assert result["rows"] == rows_of(frame)
    curve = [
        {**r, "learner": "warehouse", "round": 1} for r in rows_of(results[0].curves["warehouse"])
    ]
    assert result["learning_curve"] == curve
    assert [_strip(r) for r in result["info"]["rounds"]] == [_strip(round_summary(results[0]))]


def test_the_residual_learner_cell_gives_the_rows_of_train_residual():
    from hmarl_bench.learn.residual import train_residual

    entry = {"name": "ppo", "learners": "residual", "timesteps": 180, "n_envs": 2,
             "eval_freq": 90, "hyperparams": {"batch_size": 60, "n_epochs": 1}}  # fmt: skip
    result = run_cell(_cell(entry))
    scenario = load_scenario("default")
    trained = train_residual(
        scenario, tuning_seeds=[100, 101], validation_seeds=[200, 201], candidate_episodes=200,
        tuning_seed=0, seed=0, timesteps=180, n_envs=2,
        hyperparams={"batch_size": 60, "n_epochs": 1}, eval_freq=90,
    )  # fmt: skip
    controller = trained.controller()
    frame = evaluate(scenario, controller, (10000, 10001))
    assert result["rows"] == rows_of(frame)
    assert [r["mean_total_cost"] for r in result["learning_curve"]] == list(
        trained.learning_curve["mean_total_cost"]
    )
    assert result["info"]["tuned_params"] == trained.base_params
    assert result["info"]["factor_shares"] == controller.factor_shares()
    assert result["info"]["selected_timesteps"] == trained.selected_timesteps
