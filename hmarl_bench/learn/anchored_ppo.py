"""PPO with an anchor: a penalty on the policy's probability mass off the rule's action.

The residual learner (:mod:`hmarl_bench.learn.residual`) starts at a tuned rule (factor 1.0
on both of its heads) and should move away only where the episodes say it pays. Plain PPO
drifts: its updates follow noisy advantages, and once the deterministic action of some
states flips off factor 1.0 the chain's validation cost rises above the rule's. The anchor
adds to PPO's loss

    anchor x mean over the heads and the minibatch of (1 - pi(factor 1.0 | obs)),

the share of decisions the stochastic policy takes off the rule: 0 exactly when the policy
keeps factor 1.0 (the rule), positive off it, bounded by ``anchor``. It acts on the policy's
output directly, so unlike a charge in the reward it does not depend on how well the value
function has fitted (a large reward charge mostly inflates the value loss, whose clipped
gradient then crowds out the policy's). PPO's own terms are SB3's, unchanged; with
``anchor = 0`` an update is SB3's ``PPO.train`` step for step.

:func:`make_residual_model` builds the residual learner's model (an :class:`AnchoredPPO`
started at factor 1.0 by :func:`init_factor_one`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.utils import explained_variance
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, VecNormalize
from torch.nn import functional as F

from hmarl_bench.learn.checkpoints import check_batch_size
from hmarl_bench.learn.hyperparam_keys import MODEL_KEYS

__all__ = ["AnchoredPPO", "init_factor_one", "make_residual_model", "off_rule_mass"]


def off_rule_mass(distribution: Any, one: int) -> th.Tensor:
    """Per observation, the mean over the action heads of ``1 - pi(one)`` (N,), for an SB3
    ``MultiCategoricalDistribution`` (or a ``CategoricalDistribution``: one head)."""
    heads = getattr(distribution, "distribution", None)
    if heads is None:
        raise TypeError(f"expected a categorical SB3 distribution, got {type(distribution)}")
    if not isinstance(heads, list | tuple):
        heads = [heads]
    return th.stack([1.0 - head.probs[:, one] for head in heads], dim=1).mean(dim=1)


class AnchoredPPO(PPO):
    """SB3 PPO whose loss adds ``anchor`` x the policy's mass off action ``anchor_index``
    of every head (module docstring). Set both attributes after construction; a saved model
    loads with plain :class:`~stable_baselines3.PPO` (the anchor only shapes training)."""

    anchor: float = 0.0
    anchor_index: int = 0

    def train(self) -> None:  # SB3 2.x PPO.train with the anchor term (marked below)
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        clip_range = self.clip_range(self._current_progress_remaining)  # type: ignore[operator]
        if self.clip_range_vf is not None:
            clip_range_vf = self.clip_range_vf(self._current_progress_remaining)  # type: ignore[operator]
        entropy_losses, pg_losses, value_losses, clip_fractions, anchors = [], [], [], [], []
        approx_kl_divs: list[float] = []
        continue_training = True
        for _epoch in range(self.n_epochs):
            approx_kl_divs = []
            for rollout_data in self.rollout_buffer.get(self.batch_size):
                actions = rollout_data.actions
                if isinstance(self.action_space, spaces.Discrete):
                    actions = rollout_data.actions.long().flatten()
                values, log_prob, entropy = self.policy.evaluate_actions(
                    rollout_data.observations, actions
                )
                values = values.flatten()
                advantages = rollout_data.advantages
                if self.normalize_advantage and len(advantages) > 1:
                    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
                ratio = th.exp(log_prob - rollout_data.old_log_prob)
                policy_loss_1 = advantages * ratio
                policy_loss_2 = advantages * th.clamp(ratio, 1 - clip_range, 1 + clip_range)
                policy_loss = -th.min(policy_loss_1, policy_loss_2).mean()
                pg_losses.append(policy_loss.item())
                clip_fractions.append(th.mean((th.abs(ratio - 1) > clip_range).float()).item())
                if self.clip_range_vf is None:
                    values_pred = values
                else:
                    values_pred = rollout_data.old_values + th.clamp(
                        values - rollout_data.old_values, -clip_range_vf, clip_range_vf
                    )
                value_loss = F.mse_loss(rollout_data.returns, values_pred)
                value_losses.append(value_loss.item())
                entropy_loss = -th.mean(-log_prob) if entropy is None else -th.mean(entropy)
                entropy_losses.append(entropy_loss.item())
                loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
                if self.anchor > 0:  # the anchor: the policy's mass off the rule's action
                    distribution = self.policy.get_distribution(rollout_data.observations)
                    off = off_rule_mass(distribution, self.anchor_index).mean()
                    anchors.append(off.item())
                    loss = loss + self.anchor * off
                with th.no_grad():
                    log_ratio = log_prob - rollout_data.old_log_prob
                    approx_kl_div = th.mean((th.exp(log_ratio) - 1) - log_ratio).cpu().numpy()
                    approx_kl_divs.append(approx_kl_div)
                if self.target_kl is not None and approx_kl_div > 1.5 * self.target_kl:
                    continue_training = False
                    break
                self.policy.optimizer.zero_grad()
                loss.backward()
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
                self.policy.optimizer.step()
            self._n_updates += 1
            if not continue_training:
                break
        explained_var = explained_variance(
            self.rollout_buffer.values.flatten(), self.rollout_buffer.returns.flatten()
        )
        self.logger.record("train/entropy_loss", np.mean(entropy_losses))
        self.logger.record("train/policy_gradient_loss", np.mean(pg_losses))
        self.logger.record("train/value_loss", np.mean(value_losses))
        self.logger.record("train/approx_kl", np.mean(approx_kl_divs))
        self.logger.record("train/clip_fraction", np.mean(clip_fractions))
        self.logger.record("train/explained_variance", explained_var)
        if anchors:
            self.logger.record("train/off_rule_mass", np.mean(anchors))
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/clip_range", clip_range)


def init_factor_one(model: Any, factors: Sequence[float], bias: float) -> None:
    """Start ``model`` (PPO on a ``MultiDiscrete([n, n])``) at factor 1.0: the action
    logits' biases are 0 but ``bias`` on factor 1.0 of each head."""
    n = len(factors)
    one = list(factors).index(1.0)
    with th.no_grad():
        weights = model.policy.action_net.bias
        if weights.shape != (2 * n,):
            raise ValueError(
                f"expected {2 * n} action logits (two heads of {n}), got {weights.shape}"
            )
        weights.zero_()
        weights[one] = bias
        weights[n + one] = bias


def make_residual_model(env: VecEnv, seed: int, params: Mapping[str, Any]) -> AnchoredPPO:
    """The residual learner's model on ``env`` (a :class:`ResidualVecEnv`): SB3 PPO as
    :func:`hmarl_bench.learn.train.prepare_model` builds it (``VecMonitor``, ``VecNormalize``
    on rewards if asked, the same constructor arguments), as an :class:`AnchoredPPO` with
    ``params["anchor"]`` on factor 1.0, started at factor 1.0 (:func:`init_factor_one`)."""
    check_batch_size(dict(params), env.num_envs)
    venv: VecEnv = VecMonitor(env)
    if params.get("normalize_reward", False):
        venv = VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=params["gamma"])
    arch = list(params.get("net_arch", [64, 64]))
    model = AnchoredPPO(
        "MlpPolicy",
        venv,
        seed=seed,
        device="cpu",
        verbose=0,
        policy_kwargs={"net_arch": {"pi": arch, "vf": arch}},
        **{k: params[k] for k in MODEL_KEYS if k in params},
    )
    factors = list(params["factors"])
    model.anchor = float(params.get("anchor", 0.0))
    model.anchor_index = factors.index(1.0)
    init_factor_one(model, factors, float(params["logit_bias"]))
    return model
