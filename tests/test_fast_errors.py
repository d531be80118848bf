"""Bad input to the CLIs is one line at once: scenario, hyperparameter (flag or file) and
benchmark-config errors are reported before torch, Stable-Baselines3 or Ray is imported
(those imports take seconds; the checks need none of them). Each case runs the CLI's
``main`` in a fresh interpreter and lists the heavy modules loaded when it returned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
from importlib import import_module
from pathlib import Path
module, hp_dir, args = sys.argv[1], sys.argv[2], sys.argv[3:]
if hp_dir:  # a hyperparameters folder of the test's own (a bad file)
    import hmarl_bench.learn.hyperparam_keys as keys
    keys.HYPERPARAM_DIR = Path(hp_dir)
try:
    code = import_module(module).main(args)
except SystemExit as stop:
    code = stop.code
HEAVY = ("torch", "stable_baselines3", "sb3_contrib", "ray")
print(json.dumps({"code": code, "heavy": [m for m in HEAVY if m in sys.modules]}))
"""


def _probe(module: str, args: list[str], tmp_path: Path, hp_dir: Path | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, module, str(hp_dir or ""), *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["stderr"] = done.stderr.strip().splitlines()
    return result


SMOKE = (ROOT / "experiments" / "benchmarks" / "smoke.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--scenario", "nope"], "unknown scenario 'nope'"),
        (["--hp", "nope=1"], "unknown hyperparameter 'nope'"),
        (["--hp", "n_steps=-1"], "'n_steps' must be >= 1"),
        (["--hp", "batch_size=999999"], "larger than the rollout"),
        (["--learners", "stores,warehouse", "--hp", "batch_size=999999"], "larger than"),
        (["--learners", "warehouse", "--scenario", "nope"], "unknown scenario 'nope'"),
        (["--learners", "bogus"], "unknown learner 'bogus'"),
    ],
)
def test_run_refuses_bad_input_before_importing_torch(tmp_path, args, says):
    found = _probe("hmarl_bench.run", [*args, "--out", str(tmp_path / "run")], tmp_path)
    assert found["code"] == 2 and found["heavy"] == []
    assert len(found["stderr"]) == 1 and says in found["stderr"][0]
    assert not (tmp_path / "run").exists()


def test_run_refuses_a_bad_hyperparameter_file_before_importing_torch(tmp_path):
    hp_dir = tmp_path / "hyperparams"
    hp_dir.mkdir()
    text = (ROOT / "experiments" / "hyperparams" / "ppo.toml").read_text(encoding="utf-8")
    (hp_dir / "ppo.toml").write_text(text + "\nbogus_key = 1\n", encoding="utf-8")
    found = _probe("hmarl_bench.run", ["--out", str(tmp_path / "run")], tmp_path, hp_dir)
    assert found["code"] == 2 and found["heavy"] == []
    assert len(found["stderr"]) == 1 and "bogus_key" in found["stderr"][0]


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (("n_epochs = 4", "n_epochs = 4, bogus = 1"), "unknown hyperparameter 'bogus'"),
        (("batch_size = 128", "batch_size = 100000"), "larger than the rollout"),
        (('scenarios = ["default"]', 'scenarios = ["nope"]'), "unknown scenario 'nope'"),
        (('name = "smoke"', 'name = "smoke"\nbogus = 1'), "key 'bogus': unknown key"),
    ],
)
def test_benchmark_refuses_a_bad_config_before_importing_torch(tmp_path, edit, says):
    assert edit[0] in SMOKE
    config = tmp_path / "bad.toml"
    config.write_text(SMOKE.replace(*edit), encoding="utf-8")
    args = [str(config), "--out", str(tmp_path / "results"), "--no-progress"]
    found = _probe("hmarl_bench.benchmark", args, tmp_path)
    assert found["code"] == 2 and found["heavy"] == []
    assert len(found["stderr"]) == 1 and says in found["stderr"][0]
