"""Training budgets in whole rollouts, and the minibatch check, without importing torch.

SB3's PPO collects whole rollouts of ``n_steps`` steps in each of the VecEnv's
slots and keeps collecting while fewer steps than asked have been taken, so it trains
``ceil(asked / rollout) x rollout`` agent-steps, where ``rollout = n_steps x slots``:
``--timesteps 1024`` with 128 steps x 32 slots trains 4,096. :class:`Budget` is that
arithmetic: training announces its :attr:`Budget.trained` before it starts and records
both numbers (training for the rounded budget takes exactly the rollouts SB3 would take for
the asked one, so results do not change). A minibatch larger than the rollout
(``batch_size > rollout``) is refused: SB3 would silently train on the whole rollout.

The CLIs check budgets and minibatches before they import torch or Stable-Baselines3, so a
bad hyperparameter is one line within a second; :mod:`hmarl_bench.learn.checkpoints`
re-exports these names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Budget", "check_batch_size", "role_slots", "rollout_budget"]


@dataclass(frozen=True)
class Budget:
    """An asked training budget and the whole rollouts that meet it (module docstring)."""

    requested: int
    n_steps: int
    slots: int

    @property
    def rollout(self) -> int:
        """Agent-steps per rollout: ``n_steps`` in each slot."""
        return self.n_steps * self.slots

    @property
    def trained(self) -> int:
        """Agent-steps actually trained: the asked budget rounded up to whole rollouts."""
        return max(math.ceil(self.requested / self.rollout), 1) * self.rollout

    def describe(self) -> str:
        """``4,096 agent-steps (1,024 asked, rounded up to whole rollouts of ...)``."""
        if self.trained == self.requested:
            return f"{self.trained:,} agent-steps ({self.trained // self.rollout} rollouts)"
        return (
            f"{self.trained:,} agent-steps ({self.requested:,} asked, rounded up to whole "
            f"rollouts of n_steps {self.n_steps} x {self.slots} slots = {self.rollout:,})"
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "timesteps_requested": self.requested,
            "timesteps": self.trained,
            "rollout": self.rollout,
        }


def rollout_budget(requested: int, params: dict[str, Any], slots: int) -> Budget:
    """The :class:`Budget` of ``requested`` agent-steps with ``params["n_steps"]`` on
    ``slots`` VecEnv slots."""
    steps = params.get("n_steps", params.get("train_freq", 1))  # off-policy: train_freq
    return Budget(int(requested), int(steps), int(slots))


def check_batch_size(params: dict[str, Any], slots: int) -> None:
    """Refuse a minibatch larger than one rollout (``n_steps x slots`` transitions)."""
    if "n_steps" not in params:  # off-policy: minibatches come from the replay buffer
        return
    rollout = int(params["n_steps"]) * int(slots)
    if "batch_size" in params and int(params["batch_size"]) > rollout:  # A2C has none
        raise ValueError(
            f"hyperparameter 'batch_size' {params['batch_size']} is larger than the rollout, "
            f"n_steps {params['n_steps']} x {slots} slots = {rollout} transitions; lower "
            "batch_size or raise n_steps or n_envs"
        )


def role_slots(role: str, n_slots: int, n_envs: int) -> int:
    """VecEnv slots a role learns on with ``n_envs`` copies of a chain of ``n_slots``
    store-SKU slots: every store slot of every copy for the stores' shared policy, one per
    copy for the warehouse or the supplier."""
    return n_envs * n_slots if role == "stores" else n_envs
