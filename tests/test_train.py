"""Training the shared store policy: PPO / MaskablePPO on SharedPolicyVecEnv, tiny budgets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecMonitor

from hmarl_bench import load_scenario
from hmarl_bench.envs.vec import SharedPolicyVecEnv
from hmarl_bench.evaluation import ModelStores, RoleController, evaluate
from hmarl_bench.learn.train import (
    ALGOS,
    TrainResult,
    load_hyperparams,
    make_model,
    train_store_policy,
)

ALGO_NAMES = ["ppo", "maskable_ppo"]
TINY = {"n_steps": 32, "batch_size": 64, "n_epochs": 2}
SEED_VALUES = {
    "learning_rate": 3e-4,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "vf_coef": 0.5,
    "ent_coef": 0.01,
    "max_grad_norm": 0.5,
}


def tight_scenario():
    """The default chain with store capacity just above the initial stock: masks bite."""
    sc = load_scenario("default")
    stores = tuple(
        dataclasses.replace(
            s,
            capacity=s.initial_inventory + 40,
            order_up_to=min(s.order_up_to, s.initial_inventory + 40),
        )
        for s in sc.stores
    )
    return dataclasses.replace(sc, name="tight", stores=stores)


def _params(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.policy.state_dict().items()}


def _same_params(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    assert a.keys() == b.keys()
    return all(torch.equal(a[k], b[k]) for k in a)


def _train(algo: str, seed: int = 0, **kwargs) -> TrainResult:
    kwargs.setdefault("timesteps", 256)
    kwargs.setdefault("n_envs", 2)
    kwargs.setdefault("hyperparams", TINY)
    return train_store_policy("default", algo, seed=seed, **kwargs)


@pytest.mark.parametrize("algo", ALGO_NAMES)
def test_short_training_updates_the_policy(algo: str) -> None:
    result = _train(algo, eval_seeds=[900, 901])
    assert isinstance(result.final_model, ALGOS[algo])
    assert isinstance(result.model, ALGOS[algo])
    assert result.timesteps >= 256
    assert result.final_model.num_timesteps == result.timesteps
    assert result.seconds > 0
    env = result.final_model.get_env()
    assert env.num_envs == 2 * 2  # n_envs copies x 2 stores
    assert isinstance(env.unwrapped, SharedPolicyVecEnv)
    untrained = make_model(
        algo, VecMonitor(SharedPolicyVecEnv("default", n_envs=2, seed=0)), 0, result.hyperparams
    )
    assert not _same_params(_params(untrained), _params(result.final_model))
    curve = result.learning_curve
    assert {"timesteps", "mean_total_cost"} <= set(curve.columns)
    assert curve["timesteps"].iloc[0] == 0
    assert curve["timesteps"].iloc[-1] == result.timesteps
    assert np.all(np.isfinite(curve["mean_total_cost"])) and np.all(curve["mean_total_cost"] > 0)
    # The selected model is the one with the lowest validation cost on the curve.
    frame = evaluate("default", RoleController(stores=ModelStores(result.model)), [900, 901])
    assert frame["total_cost"].mean() == pytest.approx(curve["mean_total_cost"].min())


@pytest.mark.parametrize("algo", ALGO_NAMES)
def test_training_is_deterministic_for_a_seed(algo: str) -> None:
    first = _train(algo, seed=3, timesteps=128)
    again = _train(algo, seed=3, timesteps=128)
    other = _train(algo, seed=4, timesteps=128)
    assert _same_params(_params(first.final_model), _params(again.final_model))
    assert not _same_params(_params(first.final_model), _params(other.final_model))


@pytest.mark.parametrize("algo", ALGO_NAMES)
def test_hyperparams_file_holds_the_seed_values(algo: str) -> None:
    params = load_hyperparams(algo)
    for key, value in SEED_VALUES.items():
        assert params[key] == value, key
    overridden = load_hyperparams(algo, {"gamma": 0.9, "n_steps": 16, "net_arch": [8]})
    assert (overridden["gamma"], overridden["n_steps"], overridden["net_arch"]) == (0.9, 16, [8])
    assert overridden["learning_rate"] == 3e-4


@pytest.mark.parametrize("algo", ALGO_NAMES)
def test_hyperparams_reach_the_model(algo: str) -> None:
    venv = VecMonitor(SharedPolicyVecEnv("default", n_envs=2, seed=0))
    model = make_model(algo, venv, 0, load_hyperparams(algo, {"n_steps": 32, "batch_size": 64}))
    assert model.learning_rate == SEED_VALUES["learning_rate"]
    assert model.gamma == SEED_VALUES["gamma"]
    assert model.gae_lambda == SEED_VALUES["gae_lambda"]
    assert model.clip_range(1.0) == SEED_VALUES["clip_range"]
    assert model.vf_coef == SEED_VALUES["vf_coef"]
    assert model.ent_coef == SEED_VALUES["ent_coef"]
    assert model.max_grad_norm == SEED_VALUES["max_grad_norm"]
    assert (model.n_steps, model.batch_size, model.n_epochs) == (32, 64, 10)
    assert model.device.type == "cpu"
    # Through train_store_policy, with overrides, the reward table and reward normalization.
    result = _train(algo, timesteps=128, hyperparams={**TINY, "gamma": 0.9, "learning_rate": 1e-3})
    trained = result.final_model
    assert (trained.gamma, trained.learning_rate, trained.n_steps) == (0.9, 1e-3, 32)
    assert result.hyperparams["gamma"] == 0.9
    assert result.hyperparams["n_envs"] == 2 and result.hyperparams["timesteps"] == 128
    env = trained.get_env()
    file_reward = load_hyperparams(algo)["reward"]
    weights = env.get_attr("reward_weights")[0]
    for term, value in file_reward.items():
        assert getattr(weights, term) == value
    assert env.norm_reward  # normalize_reward = true in the file: VecNormalize on rewards


@pytest.mark.parametrize("algo", ALGO_NAMES)
@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"learning_rat": 1e-3}, "learning_rat"),
        ({"policy": "CnnPolicy"}, "policy"),
        ({"n_steps": "abc"}, "n_steps"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"normalize_reward": 1}, "normalize_reward"),
    ],
)
def test_bad_hyperparameter_override_raises(algo: str, overrides: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_hyperparams(algo, overrides)
    with pytest.raises(ValueError, match=match):
        _train(algo, timesteps=64, hyperparams=overrides)


@pytest.mark.parametrize("timesteps", [0, -1, -256])
def test_non_positive_timesteps_raise(timesteps: int) -> None:
    with pytest.raises(ValueError, match="timesteps"):
        _train("ppo", timesteps=timesteps)


def test_unknown_algo_raises() -> None:
    with pytest.raises(ValueError, match="maskable_ppo"):
        load_hyperparams("xyz")
    with pytest.raises(ValueError, match="dqn"):
        _train("dqn")


@pytest.mark.parametrize("algo", ALGO_NAMES)
def test_log_dir_gets_best_model_tensorboard_and_checkpoints(algo: str, tmp_path) -> None:
    result = _train(algo, eval_seeds=[900], eval_freq=64, log_dir=tmp_path, checkpoint_freq=128)
    best = tmp_path / "best_model.zip"
    assert best.is_file() and best.stat().st_size > 0
    assert _same_params(_params(ALGOS[algo].load(best, device="cpu")), _params(result.model))
    events = list((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert events and all(e.stat().st_size > 0 for e in events)
    checkpoints = sorted((tmp_path / "checkpoints").glob(f"{algo}_*_steps.zip"))
    assert len(checkpoints) >= 2
    curve = result.learning_curve
    assert len(curve) >= 4  # at start, every 64 steps, at the end
    assert list(curve["timesteps"]) == sorted(curve["timesteps"])


class MaskChecker(BaseCallback):
    """Records, at every rollout step, the masks MaskablePPO used and the actions it took."""

    def __init__(self) -> None:
        super().__init__()
        self.masks: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []

    def _on_step(self) -> bool:
        self.masks.append(np.array(self.locals["action_masks"]))
        self.actions.append(np.array(self.locals["actions"]))
        return True


def _feasible(actions: np.ndarray, masks: np.ndarray) -> np.ndarray:
    return np.take_along_axis(masks, actions.reshape(-1, 1).astype(int), axis=-1)[:, 0]


def test_maskable_ppo_trains_with_the_vecenv_masks() -> None:
    sc = tight_scenario()
    venv = SharedPolicyVecEnv(sc, n_envs=2, seed=0)
    params = load_hyperparams("maskable_ppo", TINY)
    model = make_model("maskable_ppo", VecMonitor(venv), 0, params)
    checker = MaskChecker()
    model.learn(256, callback=checker)
    masks, actions = np.concatenate(checker.masks), np.concatenate(checker.actions)
    assert not masks.all()  # the scenario makes some orders infeasible
    assert _feasible(actions, masks).all()


class RecordingStores(ModelStores):
    """ModelStores that keeps every decision's masks, actions and unmasked alternative."""

    def __init__(self, model, deterministic: bool = True) -> None:
        super().__init__(model, deterministic)
        self.masks: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []
        self.unmasked: list[np.ndarray] = []

    def __call__(self, obs, masks, state):
        actions = super().__call__(obs, masks, state)
        b, s, d = obs.shape
        free, _ = self.model.predict(obs.reshape(b * s, d), deterministic=self.deterministic)
        self.masks.append(masks.reshape(b * s, -1))
        self.actions.append(actions.reshape(-1))
        self.unmasked.append(np.asarray(free).reshape(-1))
        return actions


@pytest.mark.parametrize("deterministic", [True, False])
def test_maskable_model_acts_within_masks_in_evaluation(deterministic: bool) -> None:
    torch.manual_seed(0)
    sc = tight_scenario()
    model = MaskablePPO("MlpPolicy", SharedPolicyVecEnv(sc, n_envs=1, seed=0), seed=0, device="cpu")
    stores = RecordingStores(model, deterministic)
    evaluate(sc, RoleController(stores=stores), seeds=[1, 2, 3])
    masks = np.concatenate(stores.masks)
    actions = np.concatenate(stores.actions)
    unmasked = np.concatenate(stores.unmasked)
    assert not masks.all()
    assert _feasible(actions, masks).all()
    # Without masks the same model would have picked infeasible orders: the masks mattered.
    assert not _feasible(unmasked, masks).all()


def test_plain_ppo_model_is_not_masked_in_evaluation() -> None:
    model = PPO("MlpPolicy", SharedPolicyVecEnv("default", n_envs=1, seed=0), device="cpu")
    assert not ModelStores(model).maskable
    assert ModelStores(MaskablePPO("MlpPolicy", SharedPolicyVecEnv("default", n_envs=1))).maskable
