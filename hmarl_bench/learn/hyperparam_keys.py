"""Hyperparameter files ``experiments/hyperparams/*.toml`` (and ``--hp``): their keys, reading
and checks, without importing torch.

The CLI's ``--help`` lists the keys and checks ``--hp`` values before it makes a run folder,
so they live apart from :mod:`hmarl_bench.learn.train`, whose import pulls in torch and
Stable-Baselines3 (which re-exports :func:`load_hyperparams`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hmarl_bench._toml import tomllib
from hmarl_bench.config import RewardWeights
from hmarl_bench.locations import experiments_dir

__all__ = [
    "ALGO_NAMES",
    "BASE_TUNING_KEYS",
    "ENV_KEYS",
    "HYPERPARAM_DIR",
    "HYPERPARAM_KEYS",
    "MODEL_KEYS",
    "INTERFACE_NAMES",
    "LEARNER_NAMES",
    "RESIDUAL",
    "ALONE_ALGOS",
    "CONTINUOUS_ALGOS",
    "CONTINUOUS_TRACKS",
    "RESIDUAL_KEYS",
    "UNFIT_ALGOS",
    "check_role_algo",
    "check_algo",
    "check_track_algo",
    "check_values",
    "default_interface",
    "env_options",
    "hyperparams_file",
    "learner_names",
    "load_hyperparams",
    "track_name",
    "track_note",
]

#: The learners' algorithms: SB3 PPO and A2C, sb3-contrib MaskablePPO, RecurrentPPO (an
#: LSTM policy: memory across days) and TRPO, on-policy with discrete actions, train every
#: role on the shared VecEnvs; DQN and QR-DQN (:data:`ALONE_ALGOS`) the warehouse or the
#: supplier alone; SAC, TD3, TQC and DDPG (:data:`CONTINUOUS_ALGOS`) the stores or the
#: warehouse on continuous order-up-to levels.
ALGO_NAMES: tuple[str, ...] = (
    "ppo",
    "maskable_ppo",
    "recurrent_ppo",
    "a2c",
    "trpo",
    "dqn",
    "qrdqn",
    "sac",
    "td3",
    "tqc",
    "ddpg",
)
#: Off-policy, value-based algorithms (SB3 DQN, sb3-contrib QR-DQN): one agent acting alone
#: in each VecEnv slot, i.e. the warehouse or the supplier learner (one slot per copy), not
#: the shared store policy (several agents of one copy in one VecEnv).
ALONE_ALGOS: tuple[str, ...] = ("dqn", "qrdqn")
#: Off-policy algorithms with continuous actions (SB3 SAC, TD3, DDPG, sb3-contrib TQC): they
#: set an order-up-to level on a line instead of a grid (the continuous head of the planner
#: and view tracks, :mod:`hmarl_bench.agents.continuous`), for the stores' shared
#: policy (one VecEnv slot per store-SKU slot) or the warehouse; not the supplier, whose
#: actions are categorical, and not the seed track, whose actions are order sizes. Without
#: ``interface`` they train on the planner track (:func:`default_interface`).
CONTINUOUS_ALGOS: tuple[str, ...] = ("sac", "td3", "tqc", "ddpg")
#: The tracks that have order-up-to levels for :data:`CONTINUOUS_ALGOS` to set.
CONTINUOUS_TRACKS: tuple[str, ...] = ("planner", "view")
#: Algorithms of Stable-Baselines3 / sb3-contrib that do not fit these learners, and why:
#: named in the error an unknown algo gets (none at present: every algorithm of SB3 and
#: sb3-contrib the learners were checked against fits some role).
UNFIT_ALGOS: dict[str, str] = {}
HYPERPARAM_DIR = experiments_dir("hyperparams")
#: The interface tracks (hmarl_bench.agents.interfaces.INTERFACES, named here torch- and
#: gymnasium-free for the CLIs).
INTERFACE_NAMES: tuple[str, ...] = ("seed", "planner", "view")
#: The roles that can learn, in the order a round trains them (the keys of
#: hmarl_bench.learn.hierarchy.LEARNERS, named here torch-free for the CLIs' checks).
LEARNER_NAMES: tuple[str, ...] = ("stores", "warehouse", "supplier")


def learner_names(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"stores,warehouse"`` (or ``"stores+warehouse"``, or a list) -> role names in round
    order. Raises ``ValueError`` for an empty, unknown or repeated name."""
    names = text.replace("+", ",").split(",") if isinstance(text, str) else list(text)
    names = [n.strip() for n in names]
    if not names or any(not n for n in names):
        raise ValueError(
            f"learners must be a non-empty list of {list(LEARNER_NAMES)}, got {text!r}"
        )
    for name in names:
        if name not in LEARNER_NAMES:
            raise ValueError(f"unknown learner {name!r}; choose from {list(LEARNER_NAMES)}")
    if len(set(names)) != len(names):
        raise ValueError(f"learners repeat: {names}")
    return tuple(n for n in LEARNER_NAMES if n in names)


def default_interface(algo: str | None) -> str:
    """The track a learner of ``algo`` trains on when its hyperparameters name none: the
    planner track for :data:`CONTINUOUS_ALGOS` (the seed track has no order-up-to levels),
    else the seed track."""
    return "planner" if algo in CONTINUOUS_ALGOS else "seed"


def hyperparams_file(role: str, algo: str, interface: str = "seed") -> Path:
    """A learner's hyperparameters file: ``<algo>.toml`` for the stores and
    ``<role>_<algo>.toml`` for an upper role on the seed track; ``planner_<role>_<algo>.toml``
    (stores too) on the planner track, ``view_<role>_<algo>.toml`` on the view track.
    :data:`CONTINUOUS_ALGOS` have no seed-track files: on ``"seed"`` (what callers pass when
    the overrides name no track) theirs is the planner track's, whose ``interface`` key
    sets the track (an explicit ``interface = "seed"`` is then refused by
    :func:`load_hyperparams`)."""
    track = str(interface).partition(":")[0]
    if track == "seed" and algo in CONTINUOUS_ALGOS:
        track = default_interface(algo)
    if track in ("planner", "view"):
        return HYPERPARAM_DIR / f"{track}_{role}_{algo}.toml"
    return HYPERPARAM_DIR / (f"{algo}.toml" if role == "stores" else f"{role}_{algo}.toml")


def env_options(params: dict[str, Any], algo: str | None = None) -> dict[str, Any]:
    """The env keyword arguments a hyperparams dict sets: track (on the view track with its
    ``memory_days``: ``"view:k"``, :func:`track_name`), horizon mask, team reward weight,
    the centralized critic's global state, and for an ``algo`` of :data:`CONTINUOUS_ALGOS`
    the continuous head (``continuous``: :mod:`hmarl_bench.agents.continuous`)."""
    return {
        "interface": track_name(params, algo),
        "horizon_mask": bool(params.get("horizon_mask", True)),
        "team_weight": float(params.get("team_weight", 0.0)),
        "central_critic": bool(params.get("central_critic", False)),
        "continuous": algo in CONTINUOUS_ALGOS,
    }


def track_name(params: dict[str, Any], algo: str | None = None) -> str:
    """The interface name the roles are built with: ``interface`` (when the hyperparams name
    none, :func:`default_interface` of ``algo``), and on the view track
    ``"view:<memory_days>"`` when the hyperparams set ``memory_days``."""
    interface = str(params.get("interface", default_interface(algo)))
    if interface == "view" and "memory_days" in params:
        return f"view:{int(params['memory_days'])}"
    return interface


def track_note(params: dict[str, Any], algo: str | None = None) -> str:
    """What the CLIs print after the algo for a run off the seed track: ``" (planner
    track)"``, ``" (view track, continuous order-up-to levels)"``; ``""`` on the seed track."""
    track = str(params.get("interface", default_interface(algo)))
    if track == "seed":
        return ""
    head = ", continuous order-up-to levels" if algo in CONTINUOUS_ALGOS else ""
    return f" ({track} track{head})"


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
    "normalize_advantage",  # A2C and TRPO
    "target_kl",  # TRPO: the trust region's size
    "n_critic_updates",  # TRPO
    "cg_max_steps",  # TRPO: conjugate gradient steps
    "use_rms_prop",  # A2C
    "buffer_size",  # DQN / QR-DQN: replay buffer transitions
    "learning_starts",  # DQN / QR-DQN
    "tau",  # DQN / QR-DQN: soft update of the target network (1.0: hard)
    "train_freq",  # DQN / QR-DQN: env steps (of every slot) between updates
    "gradient_steps",  # DQN / QR-DQN
    "target_update_interval",  # DQN / QR-DQN
    "exploration_fraction",  # DQN / QR-DQN: share of the budget epsilon decays over
    "exploration_initial_eps",  # DQN / QR-DQN
    "exploration_final_eps",  # DQN / QR-DQN
    "target_entropy",  # SAC / TQC: "auto" (minus the action's size) or a number
    "use_sde",  # SAC / TQC: state-dependent exploration
    "policy_delay",  # TD3: critic updates per actor update
    "target_policy_noise",  # TD3: smoothing noise on the target action
    "target_noise_clip",  # TD3
    "top_quantiles_to_drop_per_net",  # TQC: the truncation of the critics' quantiles
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
    "memory_days",  # view track: days of observed demand and orders in the observation
    "lstm_hidden_size",  # recurrent_ppo: the LSTM's width
    "action_noise_std",  # SAC / TD3 / TQC / DDPG: Gaussian exploration noise on [-1, 1] (0: none)
)
#: Every key a hyperparams file (and ``--hp``) may set.
HYPERPARAM_KEYS = MODEL_KEYS + ENV_KEYS

#: The residual learner's name in a benchmark's ``learners`` (:mod:`hmarl_bench.learn.residual`).
RESIDUAL = "residual"
#: Every key of ``residual_<algo>.toml`` (and of a residual entry's overrides): PPO's, the
#: budget and network, and the residual's own: ``factors`` (the grid of level factors, 1.0
#: among them), ``logit_bias`` (the initial bias of the action logits of factor 1.0) and
#: ``move_penalty`` (the reward's charge per unit of factor distance from the rule) and
#: ``anchor`` (the loss's weight on the policy's probability mass off factor 1.0).
#: ``n_steps`` may be ``"episode"``: one episode per copy per rollout.
RESIDUAL_KEYS: tuple[str, ...] = MODEL_KEYS + (
    "n_envs",
    "net_arch",
    "normalize_reward",
    "timesteps",
    "factors",
    "logit_bias",
    "move_penalty",
    "anchor",
)
#: What a benchmark hands a residual learner cell besides its overrides (the spec adds them
#: to the cell's ``hyperparams``; a config may not set them): the tuning seeds and the
#: ``[tuning]`` budget, so the cell tunes its base rule exactly as the baseline cell does.
BASE_TUNING_KEYS: tuple[str, ...] = (
    "base_tuning_seeds",
    "base_candidate_episodes",
    "base_tuning_seed",
)


def check_algo(algo: str) -> None:
    """Refuse an algo name other than :data:`ALGO_NAMES` (saying why for an SB3 algorithm
    that does not fit, :data:`UNFIT_ALGOS`)."""
    if algo in UNFIT_ALGOS:
        raise ValueError(
            f"algo {algo!r} does not fit these learners: {UNFIT_ALGOS[algo]}; "
            f"choose one of {sorted(ALGO_NAMES)}"
        )
    if algo not in ALGO_NAMES:
        raise ValueError(f"unknown algo {algo!r}; choose one of {sorted(ALGO_NAMES)}")


def check_role_algo(role: str, algo: str) -> None:
    """Refuse an algo that cannot train ``role`` (``stores``, ``warehouse``, ``supplier``),
    naming those that can: DQN and QR-DQN learn one agent acting alone per slot; SAC, TD3,
    TQC and DDPG set order-up-to levels, which the supplier does not have."""
    check_algo(algo)
    if algo in ALONE_ALGOS and role == "stores":
        shared = [a for a in ALGO_NAMES if a not in ALONE_ALGOS]
        raise ValueError(
            f"{algo} learns one agent acting alone per VecEnv slot (the warehouse or supplier "
            f"learner), not the stores' shared policy; for the stores choose one of {shared}"
        )
    if algo in CONTINUOUS_ALGOS and role == "supplier":
        fit = [a for a in ALGO_NAMES if a not in CONTINUOUS_ALGOS]
        raise ValueError(
            f"{algo} sets a continuous order-up-to level, but the supplier's actions are "
            f"categorical (fulfil / partial / delay); for the supplier choose one of {fit}"
        )


def check_track_algo(algo: str, interface: str) -> None:
    """Refuse :data:`CONTINUOUS_ALGOS` on the seed track (its actions are order sizes, with
    no order-up-to level to set), naming the tracks that work."""
    track = str(interface).partition(":")[0]
    if algo in CONTINUOUS_ALGOS and track not in CONTINUOUS_TRACKS:
        raise ValueError(
            f"{algo} sets a continuous order-up-to level, which the seed track does not have "
            f"(its actions are order sizes); set interface to one of {list(CONTINUOUS_TRACKS)}"
        )


def load_hyperparams(
    algo: str, overrides: dict[str, Any] | None = None, path: Path | None = None
) -> dict[str, Any]:
    """The algo's hyperparameters from its TOML file, with ``overrides`` applied.

    ``path`` reads another file of the same keys (an upper role's, e.g.
    ``warehouse_ppo.toml``) instead of the stores' (``experiments/hyperparams/<algo>.toml``,
    :func:`hyperparams_file`). :data:`CONTINUOUS_ALGOS` are refused on the seed track.
    """
    check_algo(algo)
    path = hyperparams_file("stores", algo) if path is None else Path(path)
    if not path.is_file():
        raise ValueError(f"hyperparameters file not found: {path}")
    with path.open("rb") as handle:
        params = tomllib.load(handle)
    for key, value in (overrides or {}).items():
        if key not in HYPERPARAM_KEYS:
            raise ValueError(f"unknown hyperparameter {key!r}; known: {sorted(HYPERPARAM_KEYS)}")
        if key in params and not _same_kind(value, params[key], key):
            raise ValueError(
                f"hyperparameter {key!r} must be a {type(params[key]).__name__} like the "
                f"file's {params[key]!r}, got {value!r}"
            )
        params[key] = value
    _check_values(params)
    check_track_algo(algo, params.get("interface", "seed"))
    return params


#: Ranges of the numeric hyperparameters: (low, high, whether low itself is allowed).
_RANGES: dict[str, tuple[float, float, bool]] = {
    "learning_rate": (0.0, float("inf"), False),
    "gamma": (0.0, 1.0, True),
    "gae_lambda": (0.0, 1.0, True),
    "clip_range": (0.0, float("inf"), False),
    "vf_coef": (0.0, float("inf"), True),
    "ent_coef": (0.0, float("inf"), True),
    "max_grad_norm": (0.0, float("inf"), False),
    "n_steps": (1, float("inf"), True),
    "batch_size": (2, float("inf"), True),
    "n_epochs": (1, float("inf"), True),
    "n_envs": (1, float("inf"), True),
    "timesteps": (1, float("inf"), True),
    "action_noise_std": (0.0, float("inf"), True),
}
#: Keys that take a number or SB3's ``"auto"`` (``"auto_<initial value>"`` for ent_coef).
_AUTO_KEYS: tuple[str, ...] = ("ent_coef", "target_entropy")


def check_values(params: dict[str, Any]) -> None:
    """Refuse values SB3 would reject deep inside training (ValueError naming the key)."""
    _check_values(params)


def _check_values(params: dict[str, Any]) -> None:
    """Refuse values SB3 would reject deep inside training (or silently misuse)."""
    for key in _AUTO_KEYS:
        value = params.get(key)
        if isinstance(value, str) and not _is_auto(value, key):
            raise ValueError(
                f"hyperparameter {key!r} must be a number or 'auto'"
                + (" (or 'auto_<initial value>')" if key == "ent_coef" else "")
                + f", got {value!r}"
            )
    for key, (low, high, closed) in _RANGES.items():
        if key not in params:
            continue
        value = params[key]
        if key in _AUTO_KEYS and isinstance(value, str):
            continue  # "auto", checked above
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and (value >= low if closed else value > low) and value <= high
        if not ok:
            bound = f">= {low}" if closed else f"> {low}"
            upper = "" if high == float("inf") else f" and <= {high}"
            raise ValueError(f"hyperparameter {key!r} must be {bound}{upper}, got {value!r}")
    arch = params.get("net_arch", [64])
    if not (
        isinstance(arch, list)
        and arch
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in arch)
    ):
        raise ValueError(f"hyperparameter 'net_arch' must be a list of layer sizes, got {arch!r}")
    _check_learner_options(params)
    reward = params.get("reward", {})
    if not isinstance(reward, dict):
        raise ValueError(f"hyperparameter 'reward' must be a table of weights, got {reward!r}")
    known = [f.name for f in dataclasses.fields(RewardWeights)]
    for key, value in reward.items():
        if key not in known:
            raise ValueError(f"unknown reward weight {key!r} in 'reward'; known: {known}")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"reward weight {key!r} must be a number, got {value!r}")


def _is_auto(value: str, key: str) -> bool:
    """``"auto"``, or for ent_coef ``"auto_<initial value>"`` (SB3's forms)."""
    if value == "auto":
        return True
    if key != "ent_coef" or not value.startswith("auto_"):
        return False
    try:
        return float(value[len("auto_") :]) > 0
    except ValueError:
        return False


def _same_kind(value: Any, default: Any, key: str = "") -> bool:
    """Whether an override has the type of the file's value (an int may stand for a float;
    a number or ``"auto"`` for the keys that take either)."""
    if key in _AUTO_KEYS and not isinstance(value, bool) and not isinstance(default, bool):
        return isinstance(value, int | float | str)
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


def _check_learner_options(params: dict[str, Any]) -> None:
    """The planner track, team reward, critic and schedule keys (learn/critic.py, joint.py)."""
    if params.get("interface", "seed") not in INTERFACE_NAMES:
        raise ValueError(
            f"hyperparameter 'interface' must be one of {list(INTERFACE_NAMES)}, "
            f"got {params['interface']!r}"
        )
    days = params.get("memory_days", 1)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"hyperparameter 'memory_days' must be an integer >= 1, got {days!r}")
    if "memory_days" in params and params.get("interface", "seed") != "view":
        raise ValueError("hyperparameter 'memory_days' applies to interface = 'view' only")
    team = params.get("team_weight", 0.0)
    if isinstance(team, bool) or not isinstance(team, int | float) or not 0 <= team <= 1:
        raise ValueError(f"hyperparameter 'team_weight' must be in [0, 1], got {team!r}")
    if params.get("schedule", "alternate") not in ("alternate", "joint"):
        raise ValueError(
            f"hyperparameter 'schedule' must be 'alternate' or 'joint', got {params['schedule']!r}"
        )
    for key in ("central_critic", "horizon_mask", "normalize_reward"):
        if key in params and not isinstance(params[key], bool):
            raise ValueError(f"hyperparameter {key!r} must be true or false, got {params[key]!r}")
