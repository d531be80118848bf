"""Joint training: every learning role updates concurrently from one rollout of the batched twin.

Alternating rounds (:mod:`hmarl_bench.learn.rounds`) train one role while the others stand
still, so each learner answers a chain that will change under it as soon as the next one
trains. Here every learner (stores, warehouse, supplier; each its own SB3 PPO or
MaskablePPO model with its own hyperparameters file) acts in the *same* B copies of the
chain every day: the day's observations go to every model, the twin steps once with all
their orders, and each role's transition (its observation, action, value, log-probability,
mask and reward) goes to its own rollout buffer. A model runs its PPO update whenever its
buffer is full (``n_steps`` days of its slots), so every update sees the other roles as
they are now.

The loop is SB3's ``collect_rollouts`` for several models at once: rewards normalized as
``VecNormalize(norm_reward=True)`` does when the hyperparams ask for it, time-limit
truncation bootstrapped with the value of the terminal observation, SB3's ``train()`` for
the update. Budgets count copy-days (one decision of each upper role; every store slot of
a copy acts too). Every ``eval_freq`` copy-days the current policies run on the validation
seeds and the set with the lowest mean total cost of the chain is kept (selection by the
benchmark's KPI, as for every learner).
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from gymnasium import spaces
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv

from hmarl_bench.agents.interfaces import ChainState, make_roles
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import evaluate
from hmarl_bench.learn.hierarchy import Learner, Policies
from hmarl_bench.learn.train import (
    ALGOS,
    attach_env,
    env_options,
    make_model,
    training_params,
    training_weights,
)
from hmarl_bench.reconciliation import mix_team, reconcile, reward, system_cost
from hmarl_bench.twin import DigitalTwin

__all__ = ["JointResult", "train_joint"]

_ROLE_INDEX = {"stores": 0, "warehouse": 1, "supplier": 2}


class _Facade(VecEnv):
    """The spaces and slot count SB3 builds a model for; the joint loop steps the twin."""

    def __init__(self, n_slots: int, obs_space: spaces.Space, act_space: spaces.Space) -> None:
        super().__init__(n_slots, obs_space, act_space)
        self.first_obs: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        return self.first_obs

    def step_async(self, actions: np.ndarray) -> None:
        raise RuntimeError("joint training steps the twin itself")

    def step_wait(self):
        raise RuntimeError("joint training steps the twin itself")

    def close(self) -> None:
        pass

    def get_attr(self, attr_name, indices=None):
        return [None] * self.num_envs

    def set_attr(self, attr_name, value, indices=None) -> None:
        pass

    def env_method(self, method_name, *args, indices=None, **kwargs):
        return [None] * self.num_envs

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * self.num_envs


@dataclass
class _Member:
    """One learning role inside the joint loop: its model, role, reward and buffers."""

    learner: Learner
    model: Any
    role: Any
    params: dict[str, Any]
    weights: Any
    team_weight: float
    slots_per_copy: int
    maskable: bool
    returns: np.ndarray | None = None
    return_rms: RunningMeanStd | None = None

    @property
    def name(self) -> str:
        return self.learner.name


@dataclass
class JointResult:
    """The jointly trained policies (best on validation, and final) and their curve."""

    policies: Policies
    final_policies: Policies
    learning_curve: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: float = 0.0
    timesteps: int = 0  # copy-days


#: Algorithms the joint loop can drive: PPO's rollout buffer and update, without memory.
JOINT_ALGOS: tuple[str, ...] = ("ppo", "maskable_ppo")


def _observe(member: _Member, state: Any, chain: ChainState | None) -> np.ndarray:
    local = member.role.observe(state)
    batch = state.store_on_hand.shape[0]
    local = local.reshape(batch * member.slots_per_copy, -1)
    if chain is None:
        return local
    glob = np.repeat(chain.observe(state), member.slots_per_copy, axis=0)
    return np.concatenate([local, glob], axis=1)


def _masks(member: _Member, state: Any) -> np.ndarray:
    masks = member.role.action_masks(state)
    batch = state.store_on_hand.shape[0]
    return masks.reshape(batch * member.slots_per_copy, -1)


def train_joint(
    scenario: Scenario | str,
    learners: Sequence[Learner],
    algo: str = "maskable_ppo",
    timesteps: int = 100_000,
    seed: int = 0,
    n_envs: int | None = None,
    hyperparams: dict[str, Any] | None = None,
    validation_seeds: Sequence[int] = (),
    eval_freq: int = 0,
    policies: Policies | None = None,
    on_eval: Callable[[int, float], bool] | None = None,
) -> JointResult:
    """Train ``learners`` concurrently for ``timesteps`` copy-days (see the module).

    Each learner reads its own hyperparams file (:meth:`Learner.hyperparams_path`, on the
    track ``hyperparams["interface"]``) with ``hyperparams`` over it; ``n_envs`` copies
    (default: the largest of the files'). Roles that do not learn follow ``policies``
    (default: the seed's rules). ``policies`` models of learning roles are continued.
    ``on_eval(copy_days, cost)`` is called after each validation point; ``False`` stops.
    """
    if algo not in JOINT_ALGOS:
        raise ValueError(
            f"the joint schedule runs PPO's rollout loop for every learner at once; "
            f"choose one of {list(JOINT_ALGOS)} (or the alternate schedule for {algo})"
        )
    scenario = load_scenario(scenario)
    if not learners:
        raise ValueError("need at least one learner")
    interface = (hyperparams or {}).get("interface", "seed")
    base = policies or Policies()
    all_params = [
        training_params(algo, hyperparams, timesteps, None, lrn.hyperparams_path(algo, interface))
        for lrn in learners
    ]
    copies = int(n_envs or max(p["n_envs"] for p in all_params))
    options = env_options(all_params[0])
    base = dataclasses.replace(
        base, interface=options["interface"], horizon_mask=options["horizon_mask"]
    )
    twin = DigitalTwin(scenario, batch_size=copies)
    chain = ChainState(scenario) if options["central_critic"] else None
    rng = np.random.default_rng(seed)
    state = twin.reset(int(rng.integers(2**63)))
    roles = make_roles(scenario, options["interface"], options["horizon_mask"])
    members: list[_Member] = []
    for number, (learner, params) in enumerate(zip(learners, all_params, strict=True)):
        role = roles[_ROLE_INDEX[learner.name]]
        per_copy = scenario.n_slots if learner.name == "stores" else 1
        local = role.observation_space.shape[0]
        obs_space = role.observation_space
        if chain is not None:
            obs_space = spaces.Box(0.0, 1.0, (local + chain.dim,), dtype=np.float32)
        facade = _Facade(copies * per_copy, obs_space, role.action_space)
        previous = getattr(base, learner.name)
        member = _Member(
            learner,
            None,
            role,
            params,
            training_weights(learner.default_weights(scenario), params),
            float(params.get("team_weight", 0.0)),
            per_copy,
            algo == "maskable_ppo",
        )
        facade.first_obs = _observe(member, state, chain)
        if previous is not None:
            member.model = attach_env(previous, facade)
        else:
            member.model = make_model(algo, facade, seed + number, params, None, local)
        member.model._setup_learn(timesteps * per_copy, None, previous is None, "joint")
        if params.get("normalize_reward", False):
            member.returns = np.zeros(copies * per_copy)
            member.return_rms = RunningMeanStd(shape=())
        member.model.rollout_buffer.reset()
        member.model.policy.set_training_mode(False)
        members.append(member)

    others = dataclasses.replace(base, **{m.name: None for m in members})
    controller = others.controller(scenario)
    controller.reset(scenario, twin.batch_size)

    def current() -> Policies:
        out = base
        for m in members:
            out = dataclasses.replace(out, **{m.name: m.model})
        return out

    rows: list[dict[str, float]] = []
    best: tuple[float, list[bytes]] | None = None

    def evaluate_now(day_count: int) -> bool:
        """Score the current set; False when ``on_eval`` says stop."""
        nonlocal best
        if not validation_seeds:
            return True
        frame = evaluate(scenario, current().controller(scenario), validation_seeds)
        cost = float(frame["total_cost"].mean())
        rows.append(
            {
                "timesteps": day_count,
                "mean_total_cost": cost,
                "fill_rate": float(frame["fill_rate"].mean()),
            }
        )
        if best is None or cost < best[0]:
            blobs = []
            for m in members:
                buffer = io.BytesIO()
                m.model.save(buffer)
                blobs.append(buffer.getvalue())
            best = (cost, blobs)
        return on_eval is None or on_eval(day_count, cost)

    start = time.perf_counter()
    freq = eval_freq if eval_freq > 0 else max(timesteps // 10, copies)
    evaluate_now(0)
    next_eval, done_days = freq, 0
    torch_states = [_act_inputs(m, state, chain) for m in members]
    while done_days < timesteps:
        decisions = [
            _decide(m, obs, masks) for m, (obs, masks) in zip(members, torch_states, strict=True)
        ]
        orders = _chain_orders(controller, twin.view(), members, decisions)
        outcome = twin.step(*orders)
        report = reconcile(outcome, scenario)
        cost = system_cost(report, scenario)["total_cost"]
        done = twin.done
        terminal = [_observe(m, state, chain) for m in members] if done else None
        if done:
            state = twin.reset(int(rng.integers(2**63)))
        new_inputs = [_act_inputs(m, state, chain) for m in members]
        for i, member in enumerate(members):
            rewards = _rewards(member, report, cost, copies, done)
            if done:  # time-limit truncation: bootstrap from the terminal observation
                with torch.no_grad():
                    values = member.model.policy.predict_values(
                        obs_as_tensor(terminal[i], member.model.device)
                    )
                rewards = rewards + member.model.gamma * values.numpy().reshape(-1)
            _store(member, torch_states[i], decisions[i], rewards)
            member.model._last_episode_starts = np.full(copies * member.slots_per_copy, done)
            member.model.num_timesteps += copies * member.slots_per_copy
            if member.model.rollout_buffer.full:
                _update(member, new_inputs[i][0], done)
        torch_states = new_inputs
        done_days += copies
        if done_days >= next_eval:
            next_eval += freq
            if not evaluate_now(done_days):
                break
    if validation_seeds and rows[-1]["timesteps"] != done_days:
        evaluate_now(done_days)
    seconds = time.perf_counter() - start
    final = current()
    selected = final
    if best is not None:
        selected = base
        for m, blob in zip(members, best[1], strict=True):
            model = ALGOS[algo].load(io.BytesIO(blob), device="cpu")
            selected = dataclasses.replace(selected, **{m.name: model})
    return JointResult(selected, final, pd.DataFrame(rows), seconds, done_days)


def _act_inputs(member: _Member, state: Any, chain: ChainState | None):
    return _observe(member, state, chain), _masks(member, state)


def _decide(member: _Member, obs: np.ndarray, masks: np.ndarray):
    """Sample actions (and keep values and log-probabilities) as collect_rollouts does."""
    policy = member.model.policy
    with torch.no_grad():
        obs_tensor = obs_as_tensor(obs, member.model.device)
        if member.maskable:
            actions, values, log_probs = policy(obs_tensor, action_masks=masks)
        else:
            actions, values, log_probs = policy(obs_tensor)
    return actions.numpy(), values, log_probs


def _chain_orders(controller: Any, view: Any, members: list[_Member], decisions: list):
    """(store units, warehouse units, supplier actions) from the learners' sampled actions
    and the other roles' policies (rules by default), all from the day's ``ChainView``."""
    store_units, warehouse_units, supplier_actions = controller.decide(view)
    batch = view.batch_size
    for member, (actions, _, _) in zip(members, decisions, strict=True):
        if member.name == "stores":
            store_units = member.role.order_quantities(actions.reshape(batch, -1), view)
        elif member.name == "warehouse":
            shaped = actions.reshape(batch, -1)
            warehouse_units = member.role.order_quantities(shaped, view)
        else:
            supplier_actions = actions.reshape(batch).astype(np.int64)
    return store_units, warehouse_units, supplier_actions


def _rewards(member: _Member, report, cost: np.ndarray, copies: int, done: bool) -> np.ndarray:
    part = {"stores": report.stores, "warehouse": report.warehouse, "supplier": report.supplier}
    own = reward(part[member.name], member.weights)
    if member.team_weight:
        column = cost[:, None] if own.ndim == 2 else cost
        own = mix_team(own, column, member.team_weight)
    rewards = np.asarray(own, dtype=np.float64).reshape(-1)
    if member.return_rms is not None:  # VecNormalize(norm_reward=True)'s scaling
        member.returns = member.returns * member.model.gamma + rewards
        member.return_rms.update(member.returns)
        rewards = np.clip(rewards / np.sqrt(member.return_rms.var + 1e-8), -10.0, 10.0)
        if done:
            member.returns[:] = 0.0
    return rewards.astype(np.float32)


def _store(member: _Member, inputs, decision, rewards: np.ndarray) -> None:
    obs, masks = inputs
    actions, values, log_probs = decision
    if isinstance(member.model.action_space, spaces.Discrete):
        actions = actions.reshape(-1, 1)
    kwargs = {"action_masks": masks} if member.maskable else {}
    member.model.rollout_buffer.add(
        obs, actions, rewards, member.model._last_episode_starts, values, log_probs, **kwargs
    )


def _update(member: _Member, next_obs: np.ndarray, done: bool) -> None:
    """The PPO update of one learner whose buffer is full, then a fresh buffer."""
    model = member.model
    with torch.no_grad():
        values = model.policy.predict_values(obs_as_tensor(next_obs, model.device))
    dones = np.full(len(next_obs), done)
    model.rollout_buffer.compute_returns_and_advantage(last_values=values, dones=dones)
    model._update_current_progress_remaining(model.num_timesteps, model._total_timesteps)
    model.train()
    model.policy.set_training_mode(False)
    model.rollout_buffer.reset()
