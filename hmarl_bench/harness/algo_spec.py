"""A benchmark's ``[[algos]]`` entries -> :class:`AlgoSpec`: which learner of the registry
(:mod:`hmarl_bench.learn.registry`) runs, with which budget, hyperparameters and options.

The entry forms are documented in :mod:`hmarl_bench.harness.spec`. An entry without
``learner`` maps to a built-in learner and keeps the label it always had (so the same
cell ids and tables); an entry with ``learner`` names a registered learner or a user's
import path, whose module is found here without running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hmarl_bench.harness.spec_values import NAME as _NAME
from hmarl_bench.harness.spec_values import BenchmarkError
from hmarl_bench.harness.spec_values import check_keys as _unknown
from hmarl_bench.harness.spec_values import text as _str
from hmarl_bench.harness.spec_values import whole as _int
from hmarl_bench.learn.hyperparam_keys import (
    ALGO_NAMES,
    BASE_TUNING_KEYS,
    CONTINUOUS_ALGOS,
    RESIDUAL,
    check_algo,
    default_interface,
)
from hmarl_bench.learn.registry import LearnerError, check_learner, learner_module

__all__ = ["ALGO_NAMES", "LEARNER_CHOICES", "LEARNER_NAMES", "AlgoSpec", "parse_algo"]

#: The roles that can learn (hmarl_bench.learn.hierarchy.LEARNERS), in round order.
LEARNER_NAMES = ("stores", "warehouse", "supplier")
#: Every name ``learners`` takes: the roles, or the residual learner alone.
LEARNER_CHOICES = (*LEARNER_NAMES, RESIDUAL)


@dataclass(frozen=True)
class AlgoSpec:
    """One learner: an SB3 algorithm, its budget and its hyperparameter overrides.

    ``learners`` are the roles that learn (alternating for ``rounds`` rounds when there are
    several); ``role_timesteps`` give each learner's budget where ``timesteps`` (the store
    learner's budget) does not apply. ``label`` names the policy in cells and tables.
    """

    name: str
    timesteps: int
    n_envs: int | None = None
    eval_freq: int = 0
    hyperparams: tuple[tuple[str, Any], ...] = ()  # sorted (key, value) pairs: hashable
    learners: tuple[str, ...] = ("stores",)
    rounds: int = 1
    role_timesteps: tuple[tuple[str, int], ...] = ()  # (learner, steps) pairs
    label: str = ""
    #: The registry's learner (a name or an import path) and its module (fingerprints).
    learner: str = "stores"
    learner_module: str = ""
    options: tuple[tuple[str, Any], ...] = ()  # sorted (key, value) pairs: task.options

    @property
    def hyperparam_overrides(self) -> dict[str, Any]:
        return dict(self.hyperparams)

    @property
    def policy(self) -> str:
        """The policy's name in cells and tables."""
        return self.label or self.name

    @property
    def is_residual(self) -> bool:
        """The residual learner (:mod:`hmarl_bench.learn.residual`)."""
        return self.learner == RESIDUAL


_ALGO_KEYS = {
    "name",
    "timesteps",
    "n_envs",
    "eval_freq",
    "hyperparams",
    "learners",
    "rounds",
    "label",
    "learner",
    "options",
}


def _check_algo(name: str, key: str) -> None:
    """Refuse an algo the SB3 learners do not offer (saying why for one that does not fit)."""
    try:
        check_algo(name)
    except ValueError as err:
        raise BenchmarkError(f"{key}.name", str(err)) from None


def parse_algo(data: Any, key: str, base: Path | None = None) -> AlgoSpec:
    if not isinstance(data, dict):
        raise BenchmarkError(key, f"expected a table, got {type(data).__name__}")
    _unknown(data, _ALGO_KEYS, f"{key}.")
    if "learner" in data:
        return _learner_entry(data, key, base)
    name = _str(data.get("name"), f"{key}.name")
    _check_algo(name, key)
    if "options" in data:
        raise BenchmarkError(f"{key}.options", "options go with 'learner = ...' entries")
    if "timesteps" not in data:
        raise BenchmarkError(f"{key}.timesteps", "missing: the training budget in steps")
    hyper = _hyperparams(data, key)
    learners = _learners(data.get("learners", "stores"), f"{key}.learners")
    rounds = _int(data.get("rounds", 1), f"{key}.rounds", 1)
    budgets = data["timesteps"]
    if isinstance(budgets, dict):
        _unknown(budgets, set(learners), f"{key}.timesteps.")
        missing = [n for n in learners if n not in budgets]
        if missing:
            raise BenchmarkError(f"{key}.timesteps", f"missing a budget for {missing}")
        role_timesteps = tuple((n, _int(budgets[n], f"{key}.timesteps.{n}", 1)) for n in learners)
        timesteps = role_timesteps[0][1]
    else:
        timesteps = _int(budgets, f"{key}.timesteps", 1)
        role_timesteps = tuple((n, timesteps) for n in learners)
    label = ""
    if "learners" in data:
        label = f"{name}-{'+'.join(learners)}" + (f"-r{rounds}" if rounds > 1 else "")
    if "label" in data:
        label = _str(data["label"], f"{key}.label")
    if learners == (RESIDUAL,):
        hyper = _residual_entry(name, rounds, hyper, key)
    hyper = _with_track(name, hyper)
    # the registry's learner this entry runs (same label, so the same cell ids and tables)
    learner, options = "stores", ()
    if learners == (RESIDUAL,):
        learner = RESIDUAL
    elif learners != ("stores",) or rounds > 1:
        learner = "rounds"
        options = (("learners", learners), ("rounds", rounds), ("timesteps", dict(role_timesteps)))
    return AlgoSpec(
        name=name,
        timesteps=timesteps,
        n_envs=_n_envs(data, key),
        eval_freq=_int(data.get("eval_freq", 0), f"{key}.eval_freq", 0),
        hyperparams=tuple(sorted(hyper.items())),
        learners=learners,
        rounds=rounds,
        role_timesteps=role_timesteps if "learners" in data else (),
        label=label,
        learner=learner,
        learner_module=learner_module(learner),
        options=options,
    )


def _hyperparams(data: dict[str, Any], key: str) -> dict[str, Any]:
    hyper = data.get("hyperparams", {})
    if not isinstance(hyper, dict):
        raise BenchmarkError(f"{key}.hyperparams", "expected a table of overrides")
    return hyper


def _n_envs(data: dict[str, Any], key: str) -> int | None:
    n_envs = data.get("n_envs")
    return None if n_envs is None else _int(n_envs, f"{key}.n_envs", 1)


def _learner_entry(data: dict[str, Any], key: str, base: Path | None) -> AlgoSpec:
    """An entry that names its learner: ``learner = "<registered name or import path>"``."""
    for legacy in ("learners", "rounds"):
        if legacy in data:
            raise BenchmarkError(
                f"{key}.{legacy}",
                "with 'learner = ...' give it in options (options = { learners = ... })",
            )
    text = _str(data["learner"], f"{key}.learner")
    try:
        learner = check_learner(text, base)
    except LearnerError as err:
        raise BenchmarkError(f"{key}.learner", str(err)) from None
    builtin = learner in ("stores", "rounds", RESIDUAL)  # the SB3 learners
    default = learner if ":" not in learner else learner.rpartition(":")[2].split(".")[-1]
    name = _str(data.get("name", "ppo" if builtin else default), f"{key}.name")
    if builtin:
        _check_algo(name, key)
    label = _str(data.get("label", data.get("name", default)), f"{key}.label")
    if not _NAME.match(label):
        raise BenchmarkError(f"{key}.label", f"use letters, digits, '_', '.', '-'; got {label!r}")
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise BenchmarkError(f"{key}.options", "expected a table of the learner's options")
    hyper = _hyperparams(data, key)
    learners: tuple[str, ...] = ("stores",)
    if learner == RESIDUAL:
        hyper = _residual_entry(name, 1, hyper, key)
        learners = (RESIDUAL,)
    elif learner == "rounds" and "learners" in options:
        learners = _learners(options["learners"], f"{key}.options.learners")
    if builtin:
        hyper = _with_track(name, hyper)
    return AlgoSpec(
        name=name,
        timesteps=_int(data.get("timesteps", 0), f"{key}.timesteps", 0),
        n_envs=_n_envs(data, key),
        eval_freq=_int(data.get("eval_freq", 0), f"{key}.eval_freq", 0),
        hyperparams=tuple(sorted(hyper.items())),
        learners=learners,
        label=label,
        learner=learner,
        learner_module=learner_module(learner),
        options=tuple(sorted(options.items())),
    )


def _with_track(name: str, hyper: dict[str, Any]) -> dict[str, Any]:
    """The overrides of an SB3 entry with the track written out where the algo implies it:
    ``interface = "planner"`` for SAC, TD3, TQC and DDPG without one (their default track,
    :func:`~hmarl_bench.learn.hyperparam_keys.default_interface`), so that cells name it and
    their fingerprints read that track's hyperparameter files."""
    if name in CONTINUOUS_ALGOS and "interface" not in hyper:
        return {**hyper, "interface": default_interface(name)}
    return hyper


def _learners(value: Any, key: str) -> tuple[str, ...]:
    """``"stores+warehouse"`` -> ("stores", "warehouse"), in round order; ``"residual"``."""
    names = [n.strip() for n in _str(value, key).split("+")]
    for n in names:
        if n not in LEARNER_CHOICES:
            raise BenchmarkError(key, f"unknown learner {n!r}; choose from {list(LEARNER_CHOICES)}")
    if len(set(names)) != len(names):
        raise BenchmarkError(key, f"learners repeat: {names}")
    if RESIDUAL in names and len(names) > 1:
        raise BenchmarkError(
            key,
            f"the residual learner runs alone (it corrects the whole chain's rule); got {names}",
        )
    return tuple(n for n in LEARNER_CHOICES if n in names)


def _residual_entry(name: str, rounds: int, hyper: dict[str, Any], key: str) -> dict[str, Any]:
    """Check a residual entry; its overrides with lists as tuples (cells are hashable)."""
    if name != "ppo":
        raise BenchmarkError(
            f"{key}.name",
            f"the residual learner trains 'ppo' (its factors need no masks), not {name!r}",
        )
    if rounds != 1:
        raise BenchmarkError(
            f"{key}.rounds", f"the residual learner trains one round, got {rounds}"
        )
    reserved = sorted(set(hyper) & set(BASE_TUNING_KEYS))
    if reserved:
        raise BenchmarkError(
            f"{key}.hyperparams.{reserved[0]}",
            "set by the benchmark (its tuning_seeds and [tuning] table), not by an entry",
        )
    return {k: tuple(v) if isinstance(v, list) else v for k, v in hyper.items()}
