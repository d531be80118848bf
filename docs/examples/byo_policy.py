"""Bring your own policy: an SB3 model for the stores, the warehouse and supplier on their
built-in rules, scored like the benchmark's own policies.

``make(scenario)`` is the factory a benchmark config names
(``factory = "byo_policy:make"``, with this file's folder on ``PYTHONPATH``): a per-agent
policy ``(agent_id, observation, action_mask) -> action``. It returns the model's action
for every store and ``None`` for the warehouse and the supplier, which leaves them on their
built-in rules (the seed's (s, S) and "fulfil in full"), exactly as in ``HMARLEnvironment``.

Run as a script, it trains a tiny PPO store policy (a few seconds: a demonstration, not a
good policy), saves it, and scores three policies on the same five evaluation episodes:
the model with the built-in upper rules, the model with a warehouse that orders a fixed
1,000 units a day (what a policy that hard-codes the warehouse's action does), and the
rules alone.

    python docs/examples/byo_policy.py
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from stable_baselines3 import PPO

from hmarl_bench import SharedPolicyVecEnv
from hmarl_bench.config import Scenario
from hmarl_bench.evaluation import evaluate
from hmarl_bench.harness.external import AgentPolicyController

#: Where the script saves the model and ``make`` loads it from (``BYO_MODEL`` overrides).
MODEL_PATH = Path(os.environ.get("BYO_MODEL", "runs/byo_policy/ppo_stores.zip"))
#: Five of the benchmark's evaluation seeds: every policy meets the same demand streams.
SEEDS = [10000, 10001, 10002, 10003, 10004]


def make(scenario: Scenario):
    """The factory: the saved model for the stores, the built-in rules for the others."""
    model = PPO.load(MODEL_PATH, device="cpu")  # trusted files only: a pickle

    def act(agent_id: str, observation: np.ndarray, action_mask: np.ndarray) -> int | None:
        if agent_id.startswith("store_"):
            return int(model.predict(observation, deterministic=True)[0])
        return None  # warehouse_1, supplier_1: their built-in rules

    return act


def fixed_warehouse(scenario: Scenario):
    """The same stores, but a warehouse that always orders 1,000 units (action 2)."""
    stores = make(scenario)

    def act(agent_id: str, observation: np.ndarray, action_mask: np.ndarray) -> int | None:
        if agent_id == "warehouse_1":
            return 2
        return stores(agent_id, observation, action_mask)

    return act


def train(path: Path, timesteps: int = 4096) -> None:
    """A tiny PPO store policy on ``default`` (every store of 4 copies is one slot)."""
    torch.set_num_threads(1)
    env = SharedPolicyVecEnv("default", n_envs=4, seed=0)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=128, n_epochs=4, seed=0, device="cpu")
    model.learn(timesteps)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)


def main() -> None:
    from hmarl_bench import load_scenario

    scenario = load_scenario("default")
    train(MODEL_PATH)
    for label, factory in [
        ("PPO stores, warehouse and supplier on their rules", make),
        ("PPO stores, warehouse always orders 1,000", fixed_warehouse),
    ]:
        controller = AgentPolicyController(factory(scenario))
        cost = evaluate(scenario, controller, SEEDS)["total_cost"].mean()
        print(f"{label:52} mean total cost {cost:12,.0f}")
    rules = evaluate(scenario, None, SEEDS)["total_cost"].mean()  # None: every role's rule
    print(f"{'the rules alone (seed (s, S), fulfil in full)':52} mean total cost {rules:12,.0f}")


if __name__ == "__main__":
    main()
