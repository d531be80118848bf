"""HDPO: hindsight differentiable policy optimization (Alvo, Russo, Kanoria and Lee, 2023).

The twin's randomness is exogenous: an episode's demand, late shipments, hidden regimes
and outage days are drawn before any decision. So along each sampled path the episode's
cost is a function of the policy's parameters alone, and with the day written in
differentiable operations (:mod:`hmarl_bench.twin.torch_day`: min, relu, pro-rata
rationing) its gradient is exact on that path. HDPO samples a batch of training paths,
rolls the policy (:class:`~hmarl_bench.learn.hdpo_policy.HDPOPolicy`) through them in the
continuous twin, and takes an Adam step on the mean post-warm-up cost; every
``eval_every`` steps it scores the policy with integer orders on the validation seeds in
the numpy twin (:func:`~hmarl_bench.evaluation.evaluate`) and keeps the best checkpoint.

Training seeds are ``1_000_000 + training_seed x 100_000 + i`` (i = 0, 1, ... in order, up
to 99,999, then reused): disjoint from the tuning/validation seeds (100 ..) and the
evaluation seeds (10000 ..). The fixed ordering cost's indicator has no gradient; its
forward value stays exact and its gradient is that of ``ordering_cost x tanh(q /
surrogate_scale)``. ``review_days`` > 1 orders only every ``review_days`` days, which
batches orders where the fixed cost matters; ``align_review`` puts the warehouse's review
days where its shipments land on the stores' (see :mod:`~hmarl_bench.learn.hdpo_policy`).

Hyperparameters: ``experiments/hyperparams/hdpo.toml``, overridden by the task's
``hyperparams``. The budget ``task.timesteps`` (sampled copy-days) sets the number of
steps when positive (``steps = timesteps / (batch_size x episode_days)``, rounded up).
The module-level :data:`LEARNER` is what a benchmark entry ``learner = "hdpo"`` runs.
"""

from __future__ import annotations

import copy
import io
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from hmarl_bench._toml import tomllib
from hmarl_bench.config import Scenario
from hmarl_bench.evaluation import evaluate
from hmarl_bench.learn.api import LearnerTask, Trained
from hmarl_bench.learn.hdpo_policy import HDPOPolicy
from hmarl_bench.locations import experiments_dir
from hmarl_bench.twin import ChainView, DigitalTwin
from hmarl_bench.twin.torch_day import TorchTwin, TorchView

__all__ = [
    "HDPO_KEYS",
    "LEARNER",
    "HDPOController",
    "HDPOLearner",
    "load_hdpo_hyperparams",
    "rollout_cost",
    "training_seeds",
]

#: The hyperparameters file: the checkout's, or the copy a non-editable install carries.
HYPERPARAMS_FILE = experiments_dir("hyperparams", "hdpo.toml")

#: Every hyperparameter and the kind of value it takes.
HDPO_KEYS: dict[str, type] = {
    "steps": int,
    "batch_size": int,
    "learning_rate": float,
    "final_lr_fraction": float,
    "hidden": list,
    "memory_days": int,
    "review_days": int,
    "align_review": bool,
    "surrogate_scale": float,
    "eval_every": int,
    "grad_clip": float,
}

#: Training seeds of training seed k: TRAIN_SEED_BASE + k x TRAIN_SEED_STRIDE + i.
TRAIN_SEED_BASE, TRAIN_SEED_STRIDE = 1_000_000, 100_000


def load_hdpo_hyperparams(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The file's hyperparameters with ``overrides`` over them; a ValueError names a bad key."""
    with HYPERPARAMS_FILE.open("rb") as handle:
        params = tomllib.load(handle)
    for source, values in (("file", params), ("overrides", dict(overrides or {}))):
        for key, value in values.items():
            if key not in HDPO_KEYS:
                raise ValueError(
                    f"unknown hdpo hyperparameter {key!r} ({source}); known: {sorted(HDPO_KEYS)}"
                )
            kind = HDPO_KEYS[key]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if kind is list and isinstance(value, tuple):
                value = list(value)
            if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
                raise ValueError(
                    f"hdpo hyperparameter {key!r} must be {kind.__name__}, got {value!r}"
                )
            params[key] = value
    for key in ("steps", "batch_size", "review_days", "eval_every"):
        if params[key] < 1:
            raise ValueError(f"hdpo hyperparameter {key!r} must be >= 1, got {params[key]}")
    if params["memory_days"] < 0:
        raise ValueError(
            f"hdpo hyperparameter 'memory_days' must be >= 0, got {params['memory_days']}"
        )
    if not 0 < params["final_lr_fraction"] <= 1:
        raise ValueError(
            "hdpo hyperparameter 'final_lr_fraction' must be in (0, 1], got "
            f"{params['final_lr_fraction']}"
        )
    for key in ("learning_rate", "surrogate_scale", "grad_clip"):
        if not (math.isfinite(params[key]) and params[key] > 0):
            raise ValueError(f"hdpo hyperparameter {key!r} must be > 0, got {params[key]}")
    if not params["hidden"] or not all(isinstance(w, int) and w > 0 for w in params["hidden"]):
        raise ValueError(
            f"hdpo hyperparameter 'hidden' must list widths > 0, got {params['hidden']}"
        )
    return params


def training_seeds(training_seed: int, start: int, count: int) -> list[int]:
    """``count`` training episodes' seeds from index ``start`` (see the module docstring)."""
    base = TRAIN_SEED_BASE + int(training_seed) * TRAIN_SEED_STRIDE
    return [base + (start + i) % TRAIN_SEED_STRIDE for i in range(count)]


def rollout_cost(policy: HDPOPolicy, twin: TorchTwin) -> torch.Tensor:
    """Run ``policy`` through the twin's (already reset) episode; total cost per copy (B,)
    over days ``warmup_days ..``, differentiable in the policy's parameters."""
    view = twin.view()
    memory = policy.initial_memory(view)
    total = torch.zeros(view.store_on_hand.shape[0], dtype=view.store_on_hand.dtype)
    warmup = twin.scenario.warmup_days
    while not twin.done:
        store_orders, warehouse_orders = policy(view, memory)
        memory = policy.remember(memory, view)
        day = twin.step(store_orders, warehouse_orders)
        if day.day >= warmup:
            total = total + day.total_cost
        view = twin.view()
    return total


class HDPOController:
    """The trained policy as a :class:`~hmarl_bench.evaluation.ChainController`.

    Runs the network on each day's :class:`ChainView` (with the forecast memory it keeps
    itself) and rounds its orders to whole units; the supplier always fulfils.
    """

    def __init__(self, policy: HDPOPolicy) -> None:
        self.policy = policy
        self.memory: torch.Tensor | None = None

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        if scenario.n_slots != self.policy.n_slots or scenario.n_skus != self.policy.n_skus:
            raise ValueError(
                f"this HDPO policy was built for {self.policy.n_slots} slots and "
                f"{self.policy.n_skus} SKUs, not {scenario.n_slots} and {scenario.n_skus}"
            )
        self.memory = None
        self.batch_size = batch_size

    def decide(self, view: ChainView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        torch_view = TorchView.of_chain_view(view)
        with torch.no_grad():
            if self.memory is None or view.day == 0:
                self.memory = self.policy.initial_memory(torch_view)
            store, warehouse = self.policy(torch_view, self.memory)
            self.memory = self.policy.remember(self.memory, torch_view)
        return (
            np.rint(store.numpy()).astype(np.int64),
            np.rint(warehouse.numpy()).astype(np.int64),
            np.zeros(view.batch_size, dtype=np.int64),
        )


def _validation_cost(policy: HDPOPolicy, task: LearnerTask) -> float:
    frame = evaluate(task.scenario, HDPOController(policy), list(task.validation_seeds))
    return float(frame["total_cost"].mean())


class HDPOLearner:
    """HDPO as a :class:`~hmarl_bench.learn.api.Learner` (see the module docstring)."""

    def train(self, task: LearnerTask) -> Trained:
        if not task.validation_seeds:
            raise ValueError("hdpo needs validation seeds to choose its checkpoint")
        params = load_hdpo_hyperparams(task.hyperparams)
        scenario = task.scenario
        batch, days = params["batch_size"], scenario.episode_days
        steps = params["steps"]
        if task.timesteps > 0:
            steps = max(1, math.ceil(task.timesteps / (batch * days)))
        eval_every = params["eval_every"]
        if task.eval_freq > 0:
            eval_every = max(1, math.ceil(task.eval_freq / (batch * days)))
        reference = task.options.get("reference_cost")
        torch.set_num_threads(1)
        torch.manual_seed(task.training_seed)
        policy = HDPOPolicy(
            scenario,
            params["hidden"],
            params["memory_days"],
            params["review_days"],
            params["align_review"],
        )
        optimizer = torch.optim.Adam(policy.parameters(), lr=params["learning_rate"])
        final = params["final_lr_fraction"]  # cosine decay to this share of the first rate
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: final + (1 - final) * 0.5 * (1 + math.cos(math.pi * step / steps)),
        )
        sampler = DigitalTwin(scenario, batch_size=batch)
        twin = TorchTwin(scenario, integer=False, surrogate_scale=params["surrogate_scale"])
        start = time.perf_counter()
        curve: list[dict[str, float]] = []
        best = (math.inf, 0, copy.deepcopy(policy.state_dict()))
        within_1pct: float | None = None

        recent: list[float] = []  # training episodes' mean costs since the last checkpoint

        def checkpoint(step: int) -> None:
            nonlocal best, within_1pct
            cost = _validation_cost(policy, task)
            train_cost = float(np.mean(recent)) if recent else math.nan
            recent.clear()
            elapsed = time.perf_counter() - start
            curve.append(
                {
                    "timesteps": step * batch * days,
                    "learner": "hdpo",  # the figures' panel (the whole chain learns)
                    "validation_cost": cost,
                    "train_cost": train_cost,
                    "step": step,
                    "seconds": elapsed,
                }
            )
            if cost < best[0]:
                best = (cost, step, copy.deepcopy(policy.state_dict()))
            if reference is not None and within_1pct is None and cost <= 1.01 * reference:
                within_1pct = elapsed

        checkpoint(0)
        for step in range(1, steps + 1):
            seeds = training_seeds(task.training_seed, (step - 1) * batch, batch)
            twin.reset_exogenous(sampler.draw_exogenous(seeds))
            cost = rollout_cost(policy, twin).mean()
            recent.append(float(cost.detach()))
            loss = cost / days
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), params["grad_clip"])
            optimizer.step()
            schedule.step()
            if step % eval_every == 0 or step == steps:
                checkpoint(step)
        policy.load_state_dict(best[2])
        buffer = io.BytesIO()
        torch.save(policy.state_dict(), buffer)
        info: dict[str, Any] = {
            "train_seconds": time.perf_counter() - start,
            "steps": steps,
            "timesteps": steps * batch * days,
            "final_learning_rate": optimizer.param_groups[0]["lr"],
            "selected_step": best[1],
            "selected_validation_cost": best[0],
            "validation_costs": {int(r["step"]): r["validation_cost"] for r in curve},
            "hyperparams": params,
        }
        if reference is not None:
            info["reference_cost"] = float(reference)
            info["seconds_to_within_1pct"] = within_1pct
        return Trained(
            controller=HDPOController(policy),
            info=info,
            learning_curve=pd.DataFrame(curve),
            artifacts={"hdpo_policy.pt": buffer.getvalue()},
        )


#: The learner a benchmark entry ``learner = "hdpo"`` runs.
LEARNER = HDPOLearner()
