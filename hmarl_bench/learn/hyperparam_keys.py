"""The keys of ``experiments/hyperparams/*.toml`` (and of ``--hp``), without importing torch.

The CLI's ``--help`` lists them, so they live apart from :mod:`hmarl_bench.learn.train`, whose
import pulls in torch and Stable-Baselines3.
"""

from __future__ import annotations

__all__ = ["ENV_KEYS", "HYPERPARAM_KEYS", "MODEL_KEYS"]

#: Keys passed to the SB3 algorithm's constructor.
MODEL_KEYS: tuple[str, ...] = (
    "learning_rate",
    "gamma",
    "gae_lambda",
    "clip_range",
    "vf_coef",
    "ent_coef",
    "max_grad_norm",
    "n_steps",
    "batch_size",
    "n_epochs",
)
#: Keys of a hyperparams file that are not SB3 constructor arguments.
ENV_KEYS: tuple[str, ...] = (
    "n_envs",
    "net_arch",
    "normalize_reward",
    "timesteps",
    "reward",
    "interface",  # "seed" or "planner": the track (planner files: planner_<role>_<algo>.toml)
    "horizon_mask",  # planner track: mask (and cut) orders that can no longer land
    "team_weight",  # 0..1: share of the chain's daily cost in the training reward
    "central_critic",  # true: the critic reads the chain's global state (learn/critic.py)
    "schedule",  # several learners: "alternate" (rounds, default) or "joint" (learn/joint.py)
)
#: Every key a hyperparams file (and ``--hp``) may set.
HYPERPARAM_KEYS = MODEL_KEYS + ENV_KEYS
