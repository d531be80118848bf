"""--reuse-from copies a learner cell only with its models; without them the cell runs."""

from __future__ import annotations

import shutil

from hmarl_bench import benchmark
from hmarl_bench.harness.cells import CellStore, build_cells
from hmarl_bench.harness.reuse import reuse_cells
from hmarl_bench.harness.spec import benchmark_from_dict

TINY = {
    "name": "src",
    "scenarios": ["default"],
    "baselines": ["seed_ss_actions", "random"],
    "training_seeds": [0],
    "tuning_seeds": [100],
    "validation_seeds": [200],
    "evaluation_seeds": [10000, 10001],
    "clairvoyant": False,
    "statistics": {"n_resamples": 100},
    "algos": [
        {
            "name": "ppo",
            "timesteps": 64,
            "n_envs": 2,
            "eval_freq": 64,
            "hyperparams": {"n_steps": 16, "batch_size": 32, "n_epochs": 1},
        }
    ],
}


def test_learner_cells_are_reused_with_their_models_or_not_at_all(tmp_path, capsys):
    spec = benchmark_from_dict(TINY)
    summary = benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    assert not summary.failed
    source = tmp_path / "src"
    learner = next(c for c in build_cells(spec) if c.kind == "learner")
    stored = CellStore(source).load(learner)
    assert stored["artifacts"] == [f"{learner.cell_id}.zip"]

    with_models = CellStore(tmp_path / "with")
    assert len(reuse_cells(build_cells(spec), with_models, [source])) == 3
    model = with_models.models_dir / f"{learner.cell_id}.zip"
    assert model.read_bytes() == (source / "models" / model.name).read_bytes()

    shutil.rmtree(source / "models")  # as in a clone: models/ is not committed
    capsys.readouterr()
    without = CellStore(tmp_path / "without")
    copied = reuse_cells(build_cells(spec), without, [source])
    assert [c.kind for c in copied] == ["baseline", "baseline"]
    assert not without.is_done(learner)
    assert f"{learner.cell_id} (not in {source / 'models'})" in capsys.readouterr().err


def test_a_benchmark_run_copies_learner_cells_whose_options_hold_dicts(tmp_path):
    """A role learner's cell carries its per-role budgets as a dict (unhashable): the run
    that copies it must still leave it out of what it runs."""
    warehouse = {**TINY["algos"][0], "learners": "warehouse"}
    first = benchmark_from_dict({**TINY, "name": "first", "algos": [warehouse]})
    assert not benchmark.run_benchmark(first, tmp_path, progress=False, figures=False).failed
    again = benchmark.run_benchmark(
        benchmark_from_dict({**TINY, "name": "again", "algos": [warehouse]}),
        tmp_path,
        progress=False,
        figures=False,
        reuse_from=[tmp_path / "first"],
    )
    assert (again.n_reused, again.n_ran, again.failed) == (3, 0, [])
