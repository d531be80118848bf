"""The ecosystem's own clients drive the envs: TorchRL, SB3's one-liners, rl-zoo3.

TorchRL and rl-zoo3 come with the ``interop`` extra (``pip install -e ".[interop]"``); their
tests are skipped without it. RLlib and BenchMARL pin other gymnasium / torch versions and
are checked by hand (the documentation, "Using other libraries").
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import gymnasium
import numpy as np
import pytest
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import hmarl_bench
from hmarl_bench import HMARLEnvironment
from hmarl_bench.agents.masks import flat_mask

ROOT = Path(__file__).resolve().parents[1]


def _torchrl_env(name: str):
    pettingzoo_lib = pytest.importorskip("torchrl.envs.libs.pettingzoo")
    with warnings.catch_warnings():  # "tested with PettingZoo 1.24.3": we run 1.27
        warnings.simplefilter("ignore", UserWarning)
        return pettingzoo_lib.PettingZooWrapper(HMARLEnvironment(name), use_mask=True, seed=0)


@pytest.mark.parametrize("name", hmarl_bench.list_scenarios())
def test_torchrl_pettingzoo_wrapper_with_masks(name: str) -> None:
    """One mask row per sub-action is what TorchRL's groups expect; its random actions
    (drawn from the masked specs) stay feasible."""
    env = _torchrl_env(name)
    td = env.reset()
    masks = env._env.action_masks()  # hmarl_bench's masks on the same day
    for group, agents in env.group_map.items():
        got = td[group, "action_mask"].numpy()
        rows = [np.stack(masks[a]) if isinstance(masks[a], tuple) else masks[a] for a in agents]
        expected = np.stack(rows).astype(bool)  # (agents, 4) or (1, K, 4) for the warehouse
        assert got.shape == expected.shape and np.array_equal(got, expected), group
    rollout = env.rollout(5)
    assert rollout.batch_size[0] == 5
    for group in env.group_map:
        action = rollout[group, "action"]
        feasible = rollout[group, "action_mask"].gather(-1, action.unsqueeze(-1))
        assert feasible.all(), group  # no masked action was drawn


def test_torchrl_runs_a_whole_episode() -> None:
    env = _torchrl_env("default")
    rollout = env.rollout(200, break_when_any_done=True)
    assert rollout.batch_size[0] == env._env.scenario.episode_days == 90
    assert rollout["next", "store", "truncated"][-1].all()


def test_sb3_make_vec_env_and_ppo() -> None:
    venv = make_vec_env("hmarl_bench/Store-v0", n_envs=4, seed=0)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.learn(512)
    assert model.num_timesteps == 512
    actions, _ = model.predict(venv.reset(), deterministic=True)
    assert actions.shape == (4,)


def test_maskable_ppo_on_a_multi_discrete_warehouse_through_make_vec_env() -> None:
    """MaskablePPO takes the flat masks of action_masks(); the infos carry Gymnasium's rows."""
    venv = make_vec_env(
        "hmarl_bench/Warehouse-v0", n_envs=2, seed=0, env_kwargs={"scenario": "multi_sku"}
    )
    model = MaskablePPO(
        "MlpPolicy", venv, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu"
    )
    model.learn(128)
    assert model.num_timesteps == 128
    env = gymnasium.make("hmarl_bench/Warehouse-v0", scenario="multi_sku")
    obs, info = env.reset(seed=0)
    flat = env.get_wrapper_attr("action_masks")()
    assert flat.shape == (12,) and np.array_equal(flat, flat_mask(info["action_mask"]))
    action, _ = model.predict(obs, action_masks=flat, deterministic=True)
    assert env.action_space.contains(action)


@pytest.mark.parametrize("env_id", ["hmarl_bench/Store-v0", "hmarl_bench/Supplier-v0"])
def test_registered_ids_declare_their_episode_length(env_id: str) -> None:
    env = gymnasium.make(env_id)
    assert env.spec.max_episode_steps == 90  # the default scenario's episode
    timed = gymnasium.wrappers.TimeAwareObservation(env)  # needs max_episode_steps
    obs, _ = timed.reset(seed=0)
    assert obs.shape == (env.observation_space.shape[0] + 1,)  # the time is appended
    steps, truncated = 0, False
    while not truncated:  # the env ends the default scenario's episode at its 90 days
        obs, _, _, truncated, _ = timed.step(0)
        steps += 1
    assert steps == 90 and obs[-1] == 90


def test_rl_zoo3_trains_with_the_committed_hyperparameters(tmp_path) -> None:
    pytest.importorskip("rl_zoo3")
    command = [
        sys.executable,
        "-m",
        "rl_zoo3.train",
        "--algo",
        "ppo",
        "--env",
        "hmarl_bench/Store-v0",
        "--gym-packages",
        "hmarl_bench",
        "-conf",
        str(ROOT / "experiments" / "rl_zoo3" / "ppo.yml"),
        "-n",
        "256",
        "--hyperparams",
        "n_envs:2",
        "n_steps:64",
        "batch_size:64",
        "n_epochs:1",
        "--eval-freq",
        "-1",
        "--seed",
        "0",
        "--vec-env",
        "dummy",
        "-f",
        str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(tmp_path.glob("ppo/hmarl_bench-Store-v0_1/hmarl_bench-Store-v0.zip"))
