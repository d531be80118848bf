"""The residual learner: PPO learns daily corrections to the tuned reference rule.

Every benchmark's reference is ``tuned_echelon_free``
(:class:`~hmarl_bench.baselines.frontier.EchelonFree` searched on the tuning seeds), and no
learner that orders by itself reaches it. Residual policy learning (Silver et al. 2018;
Johannink et al. 2019) starts at that rule instead: each day, for each copy, the policy
picks a factor on the stores' levels and one on the warehouse's
(:class:`~hmarl_bench.envs.residual_vec.ResidualVecEnv`), and the rule orders on the
scaled levels. :func:`train_residual`

1. tunes the base rule inside the cell exactly as the baseline cell does
   (``make_baseline("tuned_echelon_free", scenario, tuning_seeds,
   budget=SearchBudget(candidate_episodes, tuning_seed))``: same inputs, same tuned
   parameters; the search is deterministic);
2. trains SB3 PPO (CPU, one torch thread) on the env with the rule's mean daily cost on the
   tuning seeds as the reward scale, from a policy whose action logits start with
   ``logit_bias`` on factor 1.0 of both heads (the rest of the output layer is SB3's, with
   weights of gain 0.01, so the deterministic action is factor 1.0, the rule, for every
   observation, and the stochastic one picks factor 1.0 with probability
   ``e^b / (e^b + n - 1)`` per head: 0.67 for b = 3 and 11 factors). Two charges keep
   it near the rule, so that it moves only where the episodes say it pays: ``anchor``
   (:class:`~hmarl_bench.learn.anchored_ppo.AnchoredPPO`) adds to PPO's loss that weight
   times the policy's probability mass off factor 1.0, and ``move_penalty`` charges the
   reward per unit of factor distance from the rule (the env's); both are 0 on the rule;
3. scores the policy on the validation seeds by the chain's total cost every
   ``eval_freq`` steps and at step 0, and keeps the best (the first of equals). Step 0 is
   the rule itself (checked: its validation cost must equal the rule's, or training stops
   with an error before its first update), so the selected policy is never worse than the
   rule on the validation seeds. It can be worse on the evaluation seeds: selection on ten
   episodes is noisy.

:class:`ResidualController` runs a trained model (or, with ``None``, the rule) as a
:class:`~hmarl_bench.evaluation.ChainController` on the day's view alone, deterministic,
counting how often it chose a factor other than 1.0.

Hyperparameters: ``experiments/hyperparams/residual_<algo>.toml`` (PPO's keys, ``n_envs``,
``net_arch``, ``timesteps``, ``factors``, ``logit_bias``, ``anchor``, ``move_penalty``;
``n_steps = "episode"`` is one
episode per copy per rollout), overridden by a benchmark entry's ``hyperparams``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from hmarl_bench._toml import tomllib
from hmarl_bench.baselines.frontier import EchelonFree
from hmarl_bench.baselines.registry import make_baseline
from hmarl_bench.baselines.search import SearchBudget
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.envs.residual_vec import FACTORS, ResidualChain, ResidualVecEnv, check_factors
from hmarl_bench.evaluation import evaluate, total_costs
from hmarl_bench.learn.anchored_ppo import init_factor_one, make_residual_model
from hmarl_bench.learn.checkpoints import Budget
from hmarl_bench.learn.hyperparam_keys import (
    HYPERPARAM_DIR,
    RESIDUAL,
    RESIDUAL_KEYS,
    check_algo,
    check_values,
)
from hmarl_bench.learn.train import KPIEvalCallback, fit

__all__ = [
    "BASE_RULE",
    "ResidualController",
    "ResidualResult",
    "init_factor_one",
    "load_residual_hyperparams",
    "residual_hyperparams_file",
    "train_residual",
    "tune_base_rule",
]

#: The rule the residual learner corrects: the benchmarks' reference family.
BASE_RULE = "tuned_echelon_free"


# --------------------------------------------------------------------------- hyperparameters


def residual_hyperparams_file(algo: str = "ppo"):
    """``experiments/hyperparams/residual_<algo>.toml``."""
    return HYPERPARAM_DIR / f"{RESIDUAL}_{algo}.toml"


def load_residual_hyperparams(
    algo: str = "ppo",
    overrides: Mapping[str, Any] | None = None,
    scenario: Scenario | str | None = None,
    timesteps: int | None = None,
    n_envs: int | None = None,
) -> dict[str, Any]:
    """The residual learner's hyperparameters: the file's, ``overrides`` over them, then
    ``timesteps`` and ``n_envs`` if given. ``n_steps = "episode"`` becomes the scenario's
    ``episode_days`` (a scenario is needed then). ``factors`` comes back as a checked tuple
    (:func:`~hmarl_bench.envs.residual_vec.check_factors`). Raises ``ValueError`` naming
    the key for an unknown key, a value of the wrong kind or out of range."""
    check_algo(algo)
    if algo != "ppo":
        raise ValueError(
            f"the residual learner trains PPO (its factors need no masks), not {algo!r}"
        )
    path = residual_hyperparams_file(algo)
    if not path.is_file():
        raise ValueError(f"hyperparameters file not found: {path}")
    with path.open("rb") as handle:
        params = tomllib.load(handle)
    for source, values in (("file", params), ("overrides", dict(overrides or {}))):
        unknown = sorted(set(values) - set(RESIDUAL_KEYS))
        if unknown:
            raise ValueError(
                f"unknown residual hyperparameter {unknown[0]!r} ({source}); "
                f"known: {sorted(RESIDUAL_KEYS)}"
            )
    params.update(dict(overrides or {}))
    if timesteps is not None:
        params["timesteps"] = int(timesteps)
    if n_envs is not None:
        params["n_envs"] = int(n_envs)
    for key in ("net_arch", "factors"):
        if isinstance(params.get(key), tuple):
            params[key] = list(params[key])
    if not isinstance(params.get("factors"), list):
        raise ValueError(f"hyperparameter 'factors' must be a list, got {params.get('factors')!r}")
    params["factors"] = check_factors(params["factors"])
    bias = params.get("logit_bias", 0.0)
    if isinstance(bias, bool) or not isinstance(bias, int | float) or not math.isfinite(bias):
        raise ValueError(f"hyperparameter 'logit_bias' must be a number, got {bias!r}")
    if bias < 0:
        raise ValueError(f"hyperparameter 'logit_bias' must be >= 0, got {bias!r}")
    params["logit_bias"] = float(bias)
    for key in ("move_penalty", "anchor"):
        value = params.get(key, 0.0)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (math.isfinite(value) and value >= 0)
        ):
            raise ValueError(f"hyperparameter {key!r} must be a number >= 0, got {value!r}")
        params[key] = float(value)
    if params.get("n_steps") == "episode":
        if scenario is None:
            raise ValueError("n_steps = 'episode' needs the scenario")
        params["n_steps"] = load_scenario(scenario).episode_days
    elif isinstance(params.get("n_steps"), str):
        raise ValueError(f"hyperparameter 'n_steps' must be a number or 'episode', got "
                         f"{params['n_steps']!r}")  # fmt: skip
    check_values(params)
    return params


# --------------------------------------------------------------------------- evaluation


class ResidualController:
    """The residual chain for evaluation: ``model`` picks each copy's factors from its own
    observation (deterministic by default); ``model=None`` keeps factor 1.0, the rule.

    A :class:`~hmarl_bench.evaluation.ChainController`: it decides from the day's
    :class:`~hmarl_bench.twin.view.ChainView` alone. After an episode, :meth:`factor_shares`
    says on what share of the copy-days it chose a factor other than 1.0 and
    :attr:`factor_counts` how often it chose each factor.
    """

    def __init__(
        self,
        model: Any,
        params: Mapping[str, Any] | None = None,
        factors: Sequence[float] = FACTORS,
        deterministic: bool = True,
    ) -> None:
        self.model = model
        self.params = dict(params or {})
        self.factors = check_factors(factors)
        self.deterministic = deterministic
        self.chain = ResidualChain(self.params, self.factors, EchelonFree)
        self.factor_counts = np.zeros((2, len(self.factors)), dtype=np.int64)

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        self.chain.reset(scenario, batch_size)
        self.factor_counts = np.zeros((2, len(self.factors)), dtype=np.int64)
        self._off = np.zeros(3, dtype=np.int64)  # stores, warehouse, either
        self._days = 0

    def decide(self, view):
        obs = self.chain.observe(view)
        if self.model is None:
            actions = np.full((view.batch_size, 2), self.chain.one, dtype=np.int64)
        else:
            raw, _ = self.model.predict(obs, deterministic=self.deterministic)
            actions = np.asarray(raw, dtype=np.int64).reshape(view.batch_size, 2)
        off = actions != self.chain.one
        self._off += [off[:, 0].sum(), off[:, 1].sum(), off.any(axis=1).sum()]
        self._days += view.batch_size
        for head in range(2):
            self.factor_counts[head] += np.bincount(actions[:, head], minlength=len(self.factors))
        return self.chain.decide(view, actions)

    def factor_shares(self) -> dict[str, float]:
        """Shares of the copy-days (since :meth:`reset`) with a factor other than 1.0 on
        the stores, on the warehouse, on either."""
        days = max(self._days, 1)
        return {
            k: float(v) / days
            for k, v in zip(("stores", "warehouse", "either"), self._off, strict=True)
        }


class _ResidualEvalCallback(KPIEvalCallback):
    """Model selection by the chain's validation total cost, the model in the residual
    controller (step 0 included: the rule itself). The step-0 evaluation must cost exactly
    ``rule_cost`` (the rule's), or training stops there with a RuntimeError."""

    def __init__(
        self,
        params: Mapping[str, Any],
        factors: Sequence[float],
        rule_cost: float,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rule_params = dict(params)
        self.factors = tuple(factors)
        self.rule_cost = rule_cost

    def controller(self) -> ResidualController:
        return ResidualController(self.model, self.rule_params, self.factors)

    def evaluate_now(self) -> None:
        super().evaluate_now()
        first = self.rows[0]
        if len(self.rows) == 1 and first["mean_total_cost"] != self.rule_cost:
            raise RuntimeError(
                "the untrained residual policy is not the rule: its validation cost "
                f"{first['mean_total_cost']} at step {first['timesteps']}, the rule's "
                f"{self.rule_cost} (logit_bias too weak?)"
            )


# --------------------------------------------------------------------------- training


def tune_base_rule(
    scenario: Scenario | str,
    tuning_seeds: Sequence[int],
    candidate_episodes: int,
    tuning_seed: int = 0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The base rule tuned as the baseline cell tunes it: ``(params, tuning_info)``, the
    params as JSON-ready lists and numbers (the baseline cell's ``tuned_params``)."""
    rule = make_baseline(
        BASE_RULE, scenario, tuning_seeds, budget=SearchBudget(candidate_episodes, tuning_seed)
    )
    return dict(rule.tuned_params), dict(rule.tuning_info)


@dataclass
class ResidualResult:
    """A trained residual learner.

    ``model``: the selected model (at step 0 the untrained one, whose deterministic action
    is factor 1.0); ``rule_selected``: step 0, the rule, was the best on the validation
    seeds, and :meth:`controller` then runs the rule itself; ``final_model``: the model at
    the end of training. ``base_params``:
    the base rule's (tuned) parameters; ``cost_scale``: the reward's divisor (the rule's
    mean daily cost on the tuning seeds); ``rule_tuning_cost`` / ``rule_validation_cost``:
    the rule's mean total cost on the tuning / validation seeds; ``learning_curve``: one
    row per evaluation on the validation seeds, step 0 first; ``selected_timesteps``: the
    step of the kept model (0: the rule).
    """

    model: Any
    final_model: Any
    base_params: dict[str, Any]
    hyperparams: dict[str, Any]
    cost_scale: float
    rule_tuning_cost: float
    rule_validation_cost: float
    learning_curve: pd.DataFrame
    selected_timesteps: int
    train_seconds: float
    tune_seconds: float
    timesteps: int
    budget: Budget | None = None
    tuning_info: dict[str, Any] = field(default_factory=dict)

    @property
    def rule_selected(self) -> bool:
        return self.selected_timesteps == 0

    def controller(self) -> ResidualController:
        """The selected policy on the base rule (the rule itself when step 0 was kept), for
        :func:`~hmarl_bench.evaluation.evaluate`."""
        model = None if self.rule_selected else self.model
        return ResidualController(model, self.base_params, self.hyperparams["factors"])


def train_residual(
    scenario: Scenario | str,
    *,
    tuning_seeds: Sequence[int],
    validation_seeds: Sequence[int],
    candidate_episodes: int = 200_000,
    tuning_seed: int = 0,
    seed: int = 0,
    timesteps: int | None = None,
    n_envs: int | None = None,
    hyperparams: Mapping[str, Any] | None = None,
    eval_freq: int = 0,
    base_params: Mapping[str, Any] | None = None,
    progress_bar: bool = False,
) -> ResidualResult:
    """Tune the base rule, train the residual policy on it, keep the best on validation
    (module docstring). ``base_params`` skips the tuning and corrects that rule instead.

    ``eval_freq`` steps (copy-days) between evaluations on ``validation_seeds`` (0: at
    step 0 and at the end only); ``timesteps`` (copy-days) and ``n_envs`` override the
    hyperparams file's; the budget is rounded up to whole rollouts.
    """
    scenario = load_scenario(scenario)
    if not tuning_seeds:
        raise ValueError("the residual learner needs tuning seeds: its base rule is tuned there")
    if not validation_seeds:
        raise ValueError("the residual learner needs validation seeds: it selects a model there")
    params = load_residual_hyperparams("ppo", hyperparams, scenario, timesteps, n_envs)
    torch.set_num_threads(1)
    start = time.perf_counter()
    tuning_info: dict[str, Any] = {}
    if base_params is None:
        base, tuning_info = tune_base_rule(scenario, tuning_seeds, candidate_episodes, tuning_seed)
    else:
        base = dict(base_params)
    tune_seconds = time.perf_counter() - start
    counted_days = scenario.episode_days - scenario.warmup_days
    rule_tuning_cost = float(total_costs(scenario, EchelonFree(**base), tuning_seeds).mean())
    cost_scale = max(rule_tuning_cost / max(counted_days, 1), 1e-9)
    factors = params["factors"]
    env = ResidualVecEnv(
        scenario,
        base,
        cost_scale=cost_scale,
        n_envs=params["n_envs"],
        seed=seed,
        factors=factors,
        move_penalty=params["move_penalty"],
    )
    model = make_residual_model(env, seed, params)
    steps = params["timesteps"]
    freq = eval_freq if eval_freq > 0 else steps + 1
    rule = ResidualController(None, base, factors)
    rule_validation_cost = float(
        evaluate(scenario, rule, list(validation_seeds))["total_cost"].mean()
    )
    evaluator = _ResidualEvalCallback(
        base, factors, rule_validation_cost, scenario, list(validation_seeds), freq
    )
    trained = fit(model, "ppo", steps, params, [evaluator], evaluator, progress_bar, "residual_ppo")
    curve = trained.learning_curve
    assert int(curve["timesteps"].iloc[0]) == 0, "the first evaluation is at step 0"
    best = int(curve["mean_total_cost"].to_numpy().argmin())  # the first of equals, as kept
    selected_timesteps = int(curve["timesteps"].iloc[best])
    return ResidualResult(
        model=trained.model,
        final_model=trained.final_model,
        base_params=base,
        hyperparams=params,
        cost_scale=cost_scale,
        rule_tuning_cost=rule_tuning_cost,
        rule_validation_cost=rule_validation_cost,
        learning_curve=curve,
        selected_timesteps=selected_timesteps,
        train_seconds=trained.seconds,
        tune_seconds=tune_seconds,
        timesteps=trained.timesteps,
        budget=trained.budget,
        tuning_info=tuning_info,
    )
