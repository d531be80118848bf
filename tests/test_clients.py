"""Clients used as their docs say: PettingZoo's render test, Gymnasium's episode length,
the bring-your-own-policy example, the BenchMARL example's settings, the interop extra."""

from __future__ import annotations

import importlib.util
import py_compile
import re
import subprocess
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from pettingzoo.test import render_test
from pettingzoo.utils.conversions import parallel_to_aec

from hmarl_bench import HMARLEnvironment, load_scenario
from hmarl_bench._toml import tomllib
from hmarl_bench.evaluation import RoleController, evaluate
from hmarl_bench.harness.external import AgentPolicyController

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
SEEDS = [10000, 10001]


def test_pettingzoo_render_test_passes(capsys) -> None:
    """render_test asks for render_mode="human" first: it prints the "ansi" text."""
    render_test(lambda render_mode=None: parallel_to_aec(HMARLEnvironment(render_mode=render_mode)))
    assert "default: start of day" in capsys.readouterr().out


def test_human_mode_prints_every_step(capsys) -> None:
    env = HMARLEnvironment("default", render_mode="human")
    env.reset(seed=0)
    env.step(env.rule_actions())
    assert env.render() is None
    assert capsys.readouterr().out.count("default: start of day") == 3  # reset, step, render


@pytest.mark.parametrize(
    ("env_id", "scenario"),
    [
        ("hmarl_bench/Store-v0", None),
        ("hmarl_bench/Store-v0", "lean_start"),
        ("hmarl_bench/Warehouse-v0", "multi_sku"),
        ("hmarl_bench/Supplier-v0", "supplier_outages"),
    ],
)
def test_registered_ids_declare_the_made_scenarios_episode(env_id, scenario) -> None:
    kwargs = {} if scenario is None else {"scenario": scenario}
    days = load_scenario(scenario or "default").episode_days
    env = gymnasium.make(env_id, **kwargs)
    assert env.spec.max_episode_steps == days
    timed = gymnasium.wrappers.TimeAwareObservation(env, normalize_time=True)
    timed.reset(seed=0)
    steps, truncated = 0, False
    while not truncated:
        obs, _, _, truncated, _ = timed.step(timed.action_space.sample() * 0)
        steps += 1
    assert steps == days and obs[-1] == 1.0  # time runs to 1 exactly at the episode's end
    assert gymnasium.make(env_id, max_episode_steps=5, **kwargs).spec.max_episode_steps == 5


def test_a_per_agent_policy_returning_none_leaves_agents_on_their_rules() -> None:
    everyone = AgentPolicyController(lambda agent, obs, mask: None)
    rules = evaluate("default", RoleController(), SEEDS)
    assert np.array_equal(evaluate("default", everyone, SEEDS)["total_cost"], rules["total_cost"])
    stores_only = AgentPolicyController(lambda agent, obs, mask: 2 if "store" in agent else None)
    fixed_upper = AgentPolicyController(lambda agent, obs, mask: 2 if "store" in agent else 0)
    on_rules = evaluate("default", stores_only, SEEDS)["total_cost"]
    assert not np.array_equal(on_rules, evaluate("default", fixed_upper, SEEDS)["total_cost"])
    scenario = load_scenario("multi_sku")  # a warehouse of several SKUs takes its rule too
    frame = evaluate(scenario, AgentPolicyController(lambda agent, obs, mask: None), SEEDS)
    assert np.array_equal(frame["total_cost"], evaluate(scenario, None, SEEDS)["total_cost"])


@pytest.mark.slow  # trains a tiny PPO (a few seconds) and scores three policies
def test_byo_policy_example_runs_as_written(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "byo_policy.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    costs = [float(c.replace(",", "")) for c in re.findall(r"cost +([\d,]+)", done.stdout)]
    assert len(costs) == 3 and (tmp_path / "runs" / "byo_policy" / "ppo_stores.zip").is_file()
    on_rules, fixed, rules = costs
    assert fixed > on_rules  # a warehouse ordering 1,000 units a day overstocks the chain
    expected = evaluate("default", None, [10000, 10001, 10002, 10003, 10004])
    assert rules == pytest.approx(round(expected["total_cost"].mean()), abs=1)


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmarl_example_compiles_and_sets_what_its_docs_say(tmp_path) -> None:
    """BenchMARL does not install beside the project's pins: the example is imported (its
    BenchMARL imports are inside make_experiment) and the values it passes are checked."""
    path = EXAMPLES / "benchmarl_example.py"
    py_compile.compile(str(path), cfile=str(tmp_path / "x.pyc"), doraise=True)
    example = _load(path)
    for scenario, days in (("default", 90), ("lean_start", 180)):
        assert example.episode_length(scenario) == days == load_scenario(scenario).episode_days
        settings = example.experiment_settings(scenario)
        assert settings["loggers"] == [] and settings["evaluation"] is False
        assert settings["on_policy_collected_frames_per_batch"] == 10 * days
        assert settings["max_n_frames"] == example.ITERATIONS * 10 * days <= 3_600
        assert settings["on_policy_minibatch_size"] <= 10 * days
    source = path.read_text(encoding="utf-8")
    assert 'return episode_length(self.config["scenario"])' in source
    assert "return 90" not in source


def test_interop_extra_has_what_rl_zoo3_enjoy_imports() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    interop = pyproject["project"]["optional-dependencies"]["interop"]
    names = {re.split(r"[<>=~!\[ ;]", r, maxsplit=1)[0].lower() for r in interop}
    assert {"torchrl", "rl_zoo3", "moviepy", "requests"} <= names
    pytest.importorskip("rl_zoo3")
    import rl_zoo3.enjoy  # noqa: F401  (imports requests through load_from_hub)


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.slow  # one interpreter per block (SB3, TorchRL, video encoding)
@pytest.mark.parametrize("index", range(len(_python_blocks(ROOT / "docs" / "interop.md"))))
def test_interop_page_examples_run_as_written(tmp_path, index) -> None:
    block = _python_blocks(ROOT / "docs" / "interop.md")[index]
    if "torchrl" in block:
        pytest.importorskip("torchrl")
    if "RecordVideo" in block:
        pytest.importorskip("moviepy")
    done = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    if "TimeAwareObservation" in block:
        assert done.stdout.split() == ["180", "1.0"]
    if "RecordVideo" in block:
        written = sorted(p.name for p in (tmp_path / "videos").glob("*.mp4"))
        assert written == ["store-episode-0.mp4", "vec-step-0-to-step-30.mp4"]
