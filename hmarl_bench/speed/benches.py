"""The measurements: the env, the batched twin, the VecEnv, PPO training, and scaling."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence

import numpy as np

from hmarl_bench.agents.roles import StoreRole, WarehouseRole
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.envs.parallel import HMARLEnvironment
from hmarl_bench.envs.vec import SharedPolicyVecEnv
from hmarl_bench.reconciliation import reconcile
from hmarl_bench.speed.measure import (
    TARGET_TRAIN_RATIO,
    TARGET_TWIN_COPIES,
    TARGETS,
    Measurement,
    Stepper,
    _cartpole,
    _race,
    _stats,
    chain_scenario,
    state_bytes,
)
from hmarl_bench.twin import DigitalTwin

__all__ = ["bench_env", "bench_scaling", "bench_train", "bench_twin", "bench_vec"]


def _twin_stepper(scenario: Scenario, copies: int, orders: str) -> tuple[Stepper, DigitalTwin]:
    """One simulated day per call (policy, step, reconcile); resets are not timed."""
    twin = DigitalTwin(scenario, batch_size=copies)
    twin.reset(0)
    store_role, warehouse_role = StoreRole(scenario), WarehouseRole(scenario)
    supplier_action = np.zeros(copies, dtype=np.int64)
    fixed_store = np.tile(np.rint(twin.mean_demand[0]).astype(np.int64), (copies, 1))
    fixed_warehouse = np.tile(warehouse_role.sku_quantities[:, 1], (copies, 1))  # (B, K)

    def step() -> float:
        excluded = 0.0
        if twin.done:
            start = time.perf_counter()
            twin.reset(0)
            excluded = time.perf_counter() - start
        state = twin.state
        if orders == "rule":
            s_orders = store_role.order_quantities(store_role.rule_actions(state), state)
            w_orders = warehouse_role.order_quantities(warehouse_role.rule_actions(state))
        else:
            s_orders, w_orders = fixed_store, fixed_warehouse
        reconcile(twin.step(s_orders, w_orders, supplier_action), scenario)
        return excluded

    return step, twin


def bench_env(scenario: Scenario | str = "default", seconds: float = 3.0) -> list[Measurement]:
    """(a) HMARLEnvironment, one copy, fixed valid actions: env-steps/s vs CartPole-v1 x 1.

    Two rows raced in the same windows: the env as it runs by default (its compiled day;
    one untimed first step compiles or loads the kernel) and its numpy reference path
    (``compiled=False``), so the gain is measured under the same load.
    """
    steppers, envs = [], []
    for compiled in (True, False):
        env = HMARLEnvironment(scenario, compiled=compiled)
        env.reset(seed=0)
        sc = env.scenario
        warehouse = 1 if sc.n_skus == 1 else np.ones(sc.n_skus, dtype=np.int64)
        actions = {**dict.fromkeys(env.store_ids, 2), "warehouse_1": warehouse, "supplier_1": 0}
        env.step(actions)  # warm-up, not timed

        def step(env: HMARLEnvironment = env, actions: dict = actions) -> float:
            if not env.agents:
                env.reset()
            env.step(actions)
            return 0.0

        steppers.append(step)
        envs.append(env)
    *ours, ref = _race([*steppers, _cartpole(1)], seconds * 3)
    rows = []
    names = ("HMARLEnvironment", "numpy reference")  # the second: compiled=False
    for env, rates, name in zip(envs, ours, names, strict=True):
        sc = env.scenario
        target = TARGETS.get(("env", name), math.nan) if sc.n_skus == 1 else math.nan
        rows.append(
            Measurement(
                "env",
                name,
                1,
                sc.n_stores,
                1,
                0,
                seconds,
                **_stats(rates, 1),
                unit="env-steps/s",
                reference="CartPole-v1 sync x1",
                reference_rate=max(ref),
                bytes_per_copy=state_bytes(env.twin),
                target=target,
                skus=sc.n_skus,
                scenario=sc.name,
            )
        )
    return rows


def bench_twin(
    scenario: Scenario | str = "default", copies: int = 1024, seconds: float = 3.0
) -> list[Measurement]:
    """(b) The batched twin with rule and with fixed orders: slot-steps/s vs CartPole-v1.

    A slot is a store x SKU pair (a store, with one SKU); the target holds for every
    scenario at B = 1024.
    """
    sc = load_scenario(scenario)
    slots = copies * sc.n_slots
    rule, twin = _twin_stepper(sc, copies, "rule")
    fixed, _ = _twin_stepper(sc, copies, "fixed")
    rates = _race(
        [rule, fixed, _cartpole(slots), _cartpole(slots, "vector_entry_point")], 4 * seconds
    )
    rows = []
    for name, ours in (("rule", rates[0]), ("fixed", rates[1])):
        target = TARGETS.get(("twin", name), math.nan) if copies == TARGET_TWIN_COPIES else math.nan
        rows.append(
            Measurement(
                "twin",
                name,
                copies,
                sc.n_stores,
                slots,
                0,
                seconds,
                **_stats(ours, slots),
                unit="slot-steps/s",
                reference=f"CartPole-v1 sync x{slots}",
                reference_rate=slots * max(rates[2]),
                batched_reference_rate=slots * max(rates[3]),
                bytes_per_copy=state_bytes(twin),
                target=target,
                skus=sc.n_skus,
                scenario=sc.name,
            )
        )
    return rows


def bench_vec(
    scenario: Scenario | str = "default", copies: int = 16, seconds: float = 3.0
) -> Measurement:
    """(c) SharedPolicyVecEnv with random actions: slot-steps/s vs CartPole-v1 x slots."""
    venv = SharedPolicyVecEnv(scenario, n_envs=copies, seed=0)
    venv.reset()
    slots = venv.num_envs
    actions = np.random.default_rng(0).integers(0, 4, size=(64, slots))
    counter = iter(range(1 << 62))

    def step() -> float:
        venv.step_async(actions[next(counter) % 64])
        venv.step_wait()
        return 0.0

    rates = _race([step, _cartpole(slots), _cartpole(slots, "vector_entry_point")], 3 * seconds)
    return Measurement(
        "vec",
        "SharedPolicyVecEnv",
        copies,
        venv.n_stores,
        slots,
        0,
        seconds,
        **_stats(rates[0], slots),
        unit="slot-steps/s",
        reference=f"CartPole-v1 sync x{slots}",
        reference_rate=slots * max(rates[1]),
        batched_reference_rate=slots * max(rates[2]),
        bytes_per_copy=state_bytes(venv.twin),
        skus=venv.scenario.n_skus,
        scenario=venv.scenario.name,
    )


def bench_train(
    scenario: Scenario | str = "default",
    copies: int | None = None,
    seconds: float = 3.0,
    overrides: dict | None = None,
) -> Measurement:
    """(d) PPO agent-steps/s on SharedPolicyVecEnv vs the same PPO on CartPole-v1.

    Both learners use the hyperparameters of ``ppo.toml`` (with ``overrides``), the same
    wrappers (monitor, reward normalization when set), the CPU and one torch thread; after
    one untimed warm-up rollout each, they alternate ``learn`` calls of one rollout each.
    """
    import torch
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    from hmarl_bench.learn.train import load_hyperparams, make_model

    sc = load_scenario(scenario)
    params = load_hyperparams("ppo", overrides)
    copies = int(params["n_envs"] if copies is None else copies)
    torch.set_num_threads(1)
    weights = dataclasses.replace(sc.store_reward, **params.get("reward", {}))
    ours = VecMonitor(SharedPolicyVecEnv(sc, n_envs=copies, seed=0, reward_weights=weights))
    theirs = make_vec_env("CartPole-v1", n_envs=ours.num_envs, seed=0)
    models = []
    for venv in (ours, theirs):
        if params.get("normalize_reward", False):
            venv = VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=params["gamma"])
        models.append(make_model("ppo", venv, 0, params))
    rollout = int(params["n_steps"]) * ours.num_envs

    def stepper(model) -> Stepper:
        def learn() -> float:
            model.learn(rollout, reset_num_timesteps=False)
            return 0.0

        return learn

    steppers = [stepper(m) for m in models]
    for learn in steppers:  # warm-up: first rollout, buffers, torch kernels
        learn()
    rates = _race(steppers, 2 * seconds, windows=3)
    return Measurement(
        "train",
        "PPO on SharedPolicyVecEnv",
        copies,
        sc.n_stores,
        rollout,
        0,
        seconds,
        **_stats(rates[0], rollout),
        unit="agent-steps/s",
        reference=f"PPO on CartPole-v1 make_vec_env x{ours.num_envs}",
        reference_rate=rollout * max(rates[1]),
        target=TARGET_TRAIN_RATIO,
        skus=sc.n_skus,
        scenario=sc.name,
    )


def bench_scaling(
    copies: Sequence[int] = (1, 16, 256, 1024),
    stores: Sequence[int] = (2, 10, 100),
    skus: Sequence[int] = (1, 3),
    seconds: float = 3.0,
    orders: str = "rule",
    windows: int = 7,
) -> list[Measurement]:
    """The twin's time per step (policy + step + reconcile) over copies x stores x SKUs.

    Chains from :func:`chain_scenario`; ``per_call`` is the slot-steps of one call,
    B x S x K. Every size runs in each of ``windows`` rounds (all twins are built first),
    so a change of load during the run hits every size alike rather than a few, and each
    size's best round is kept.
    """
    sizes = [(k, s, b) for k in skus for s in stores for b in copies]
    steppers, twins = [], []
    for n_skus, n_stores, b in sizes:
        step, twin = _twin_stepper(chain_scenario(n_stores, n_skus), b, orders)
        steppers.append(step)
        twins.append(twin)
    rates = _race(steppers, seconds, windows=windows)
    rows = []
    for (n_skus, n_stores, b), twin, size_rates in zip(sizes, twins, rates, strict=True):
        slots = b * twin.n_slots
        rows.append(
            Measurement(
                "scaling",
                orders,
                b,
                n_stores,
                slots,
                0,
                seconds,
                **_stats(size_rates, slots),
                unit="slot-steps/s",
                bytes_per_copy=state_bytes(twin),
                skus=n_skus,
                scenario=twin.scenario.name,
            )
        )
    return rows
