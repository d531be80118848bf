"""PolicyAgent: a trained model saved, loaded and run per store inside HMARLEnvironment."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from hmarl_bench import HMARLEnvironment, SingleAgentWrapper
from hmarl_bench.agents.policy import ModelLoadError, PolicyAgent, check_spaces, load_model
from hmarl_bench.agents.roles import StoreRole
from hmarl_bench.learn.train import ALGOS, train_store_policy

ALGO_NAMES = ["ppo", "maskable_ppo"]
TINY = {"n_steps": 32, "batch_size": 64, "n_epochs": 2}


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, tuple[object, Path]]:
    """A tiny trained store model per algo and where it was saved."""
    out = {}
    for algo in ALGO_NAMES:
        result = train_store_policy(
            "default", algo, timesteps=128, seed=0, n_envs=2, hyperparams=TINY
        )
        path = tmp_path_factory.mktemp(algo) / "model.zip"
        result.model.save(path)
        out[algo] = (result.model, path)
    return out


@pytest.fixture(scope="module")
def warehouse_model_path(tmp_path_factory) -> Path:
    """A PPO model for the warehouse's spaces (6 observations), saved untrained."""
    model = PPO("MlpPolicy", SingleAgentWrapper("default", agent="warehouse_1"), device="cpu")
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.zip"
    model.save(path)
    return path


def _predict(model, obs: np.ndarray, mask: np.ndarray, deterministic: bool = True) -> int:
    kwargs = {"action_masks": mask} if "Maskable" in type(model).__name__ else {}
    action, _ = model.predict(obs, deterministic=deterministic, **kwargs)
    return int(np.asarray(action).reshape(-1)[0])


def _run_episode(env: HMARLEnvironment, agents: dict[str, PolicyAgent], seed: int):
    """One episode: the store agents act on their own observations; the rest by rule.

    Returns, per day, the observations and masks the stores saw, their actions and rewards.
    """
    obs, infos = env.reset(seed=seed)
    for agent in agents.values():
        agent.reset()
    days = []
    while env.agents:
        actions = env.rule_actions()
        masks = {a: infos[a]["action_mask"] for a in agents}
        for agent_id, agent in agents.items():
            actions[agent_id] = agent.act(obs[agent_id], masks[agent_id], env.twin_state)
        seen = {a: obs[a] for a in agents}
        obs, rewards, _, _, infos = env.step(actions)
        for agent_id, agent in agents.items():
            agent.receive_feedback(infos[agent_id]["report"])
        days.append((seen, masks, {a: actions[a] for a in agents}, rewards))
    return days


@pytest.mark.parametrize("algo", ALGO_NAMES)
@pytest.mark.parametrize("name", ["default", "three_stores"])
def test_saved_model_acts_for_every_store(saved, algo: str, name: str) -> None:
    model, path = saved[algo]
    env = HMARLEnvironment(name)
    agents = {a: PolicyAgent.from_file(path, name, a) for a in env.store_ids}
    for agent in agents.values():
        assert isinstance(agent.model, ALGOS[algo])  # the file's class, detected
        assert agent.maskable == (algo == "maskable_ppo")
        loaded = agent.model.policy.state_dict()
        for key, value in model.policy.state_dict().items():
            assert torch.equal(loaded[key], value), key
    days = _run_episode(env, agents, seed=4)
    assert len(days) == env.scenario.episode_days
    for seen, masks, actions, _ in days:
        for agent_id in agents:
            expected = _predict(model, seen[agent_id], masks[agent_id])
            assert actions[agent_id] == expected
    # Each store acted on its own observation: the stores saw different things.
    first = env.store_ids[0]
    assert any(not np.array_equal(d[0][first], d[0][env.store_ids[1]]) for d in days)
    for agent in agents.values():
        assert agent.experiences == []  # learning is off by default


@pytest.mark.parametrize("algo", ALGO_NAMES)
def test_learning_on_samples_and_records_experiences(saved, algo: str) -> None:
    model, path = saved[algo]
    env = HMARLEnvironment("default")
    agents = {a: PolicyAgent.from_file(path, "default", a) for a in env.store_ids}
    for agent in agents.values():
        agent.enable_learning()
    torch.manual_seed(0)
    days = _run_episode(env, agents, seed=4)
    greedy_differs = 0
    for agent_id, agent in agents.items():
        assert len(agent.experiences) == len(days)
        for exp, (seen, masks, actions, rewards) in zip(agent.experiences, days, strict=True):
            np.testing.assert_array_equal(exp["observation"], seen[agent_id])
            assert exp["action"] == actions[agent_id]
            assert exp["reward"] == pytest.approx(rewards[agent_id])
            if algo == "maskable_ppo":
                assert masks[agent_id][exp["action"]]
            greedy_differs += exp["action"] != _predict(model, seen[agent_id], masks[agent_id])
        assert agent.episode_return == pytest.approx(sum(d[3][agent_id] for d in days))
    assert greedy_differs > 0  # sampled, not greedy
    # Learning off again: greedy and nothing recorded.
    for agent in agents.values():
        agent.disable_learning()
        agent.experiences.clear()
    days = _run_episode(env, agents, seed=4)
    for agent_id, agent in agents.items():
        assert agent.experiences == []
        for seen, masks, actions, _ in days:
            assert actions[agent_id] == _predict(model, seen[agent_id], masks[agent_id])


class SpyModel:
    """A bare predictor that records the keyword arguments of each predict call."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def predict(self, obs, **kwargs):
        self.calls.append(kwargs)
        return np.array([1]), None


class MaskableSpyModel(SpyModel):
    """Named like sb3-contrib's MaskablePPO, so the agent passes masks."""


@pytest.mark.parametrize("spy_class", [SpyModel, MaskableSpyModel])
def test_learning_switch_picks_sampling_and_masks(spy_class) -> None:
    spy = spy_class()
    agent = PolicyAgent(spy, "default", "store_2")
    obs, mask = np.zeros(7, dtype=np.float32), np.array([True, True, False, False])
    assert agent.act(obs, mask) == 1
    agent.enable_learning()
    agent.act(obs, mask)
    agent.disable_learning()
    agent.act(obs, mask)
    assert [c["deterministic"] for c in spy.calls] == [True, False, True]
    maskable = spy_class is MaskableSpyModel
    for call in spy.calls:
        assert ("action_masks" in call) == maskable
        if maskable:
            np.testing.assert_array_equal(call["action_masks"], mask)
    # receive_feedback records only what was acted on with learning on.
    report = {"service_level": 1.0, "holding_cost": 10.0, "stockout": 0.0, "excess": 0.0,
              "ordering_cost": 0.0}  # fmt: skip
    agent.receive_feedback(report)
    assert agent.experiences == []
    agent.enable_learning()
    agent.act(obs, mask)
    assert agent.receive_feedback(report) == pytest.approx(10.0 * 1.0 - 0.1 * 10.0)
    [experience] = agent.experiences
    np.testing.assert_array_equal(experience["observation"], obs)
    assert (experience["action"], experience["reward"]) == (1, pytest.approx(9.0))
    agent.receive_feedback(report)  # no new action: nothing more recorded
    assert len(agent.experiences) == 1


def test_missing_model_file(tmp_path) -> None:
    with pytest.raises(ModelLoadError, match="not found"):
        PolicyAgent.from_file(tmp_path / "nothing.zip")
    with pytest.raises(ModelLoadError, match="not found"):
        load_model(tmp_path / "nothing")


def _corrupt_files(directory: Path, model_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    files = {}
    files["random_bytes"] = directory / "random.zip"
    files["random_bytes"].write_bytes(rng.bytes(4096))
    files["zip_without_model"] = directory / "other.zip"
    with zipfile.ZipFile(files["zip_without_model"], "w") as archive:
        archive.writestr("notes.txt", "not a model")
    files["zip_with_bad_data"] = directory / "bad_data.zip"
    with zipfile.ZipFile(files["zip_with_bad_data"], "w") as archive:
        archive.writestr("data", "{not json")
    files["truncated_model"] = directory / "truncated.zip"
    files["truncated_model"].write_bytes(model_path.read_bytes()[: model_path.stat().st_size // 2])
    files["empty"] = directory / "empty.zip"
    files["empty"].write_bytes(b"")
    return files


@pytest.mark.parametrize(
    "kind",
    ["random_bytes", "zip_without_model", "zip_with_bad_data", "truncated_model", "empty"],
)
@pytest.mark.parametrize("algo", [None, "ppo", "maskable_ppo"])
def test_corrupt_model_file(saved, tmp_path, kind: str, algo: str | None) -> None:
    path = _corrupt_files(tmp_path, saved["ppo"][1])[kind]
    with pytest.raises(ModelLoadError, match=str(path.name)):
        PolicyAgent.from_file(path, algo=algo)


def test_model_of_the_other_algo_is_refused(saved) -> None:
    with pytest.raises(ModelLoadError, match="MaskablePPO model, not PPO; pass --algo maskable"):
        load_model(saved["maskable_ppo"][1], "ppo")
    with pytest.raises(ModelLoadError, match="PPO model, not MaskablePPO; pass --algo ppo"):
        load_model(saved["ppo"][1], "maskable_ppo")
    with pytest.raises(ModelLoadError, match="PPO model, not DQN; pass --algo ppo"):
        load_model(saved["ppo"][1], "dqn")
    with pytest.raises(ModelLoadError, match="unknown algo"):
        load_model(saved["ppo"][1], "xyz")


@pytest.mark.parametrize("agent_id", ["warehouse_1", "supplier_1"])
def test_store_model_refused_for_other_roles(saved, agent_id: str) -> None:
    model, path = saved["ppo"]
    with pytest.raises(ModelLoadError, match=r"observations \(7,\).*observations \(\d,\)"):
        PolicyAgent.from_file(path, "default", agent_id)
    with pytest.raises(ValueError, match="observations"):
        PolicyAgent(model, "default", agent_id)


def test_warehouse_model_refused_for_a_store(warehouse_model_path) -> None:
    with pytest.raises(ModelLoadError, match=r"observations \(6,\)"):
        PolicyAgent.from_file(warehouse_model_path, "default", "store_1")
    model = load_model(warehouse_model_path)
    with pytest.raises(ModelLoadError, match="store"):
        check_spaces(model, StoreRole(HMARLEnvironment("default").scenario), "store")
    agent = PolicyAgent(model, "default", "warehouse_1")  # its own role fits
    assert agent.observation_space.shape == (6,)


@pytest.mark.parametrize("agent_id", ["store_0", "store_3", "store_x", "retailer_1"])
def test_unknown_agent_id(saved, agent_id: str) -> None:
    with pytest.raises(ValueError, match="unknown agent id"):
        PolicyAgent(saved["ppo"][0], "default", agent_id)
