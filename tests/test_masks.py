"""Action masks in Gymnasium's form: sample(mask=...), PettingZoo's AEC api and seed tests."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import api_test, seed_test
from pettingzoo.utils.conversions import parallel_to_aec

import hmarl_bench
from hmarl_bench import HMARLEnvironment
from hmarl_bench.agents.masks import action_sizes, flat_mask, gym_mask

SCENARIOS = hmarl_bench.list_scenarios()
#: PettingZoo's tests step the AEC env one agent at a time with checks on every step: 100
#: cycles (past the 90-day horizon) take minutes on the 1,000-store chain, so it runs 3.
CYCLES = {"stores_1000": 3}


@pytest.mark.parametrize("name", SCENARIOS)
def test_pettingzoo_api_test_on_the_aec_conversion(name: str) -> None:
    api_test(parallel_to_aec(HMARLEnvironment(name)), num_cycles=CYCLES.get(name, 100))


@pytest.mark.parametrize("name", SCENARIOS)
def test_pettingzoo_seed_test_on_the_aec_conversion(name: str) -> None:
    seed_test(lambda: parallel_to_aec(HMARLEnvironment(name)), num_cycles=CYCLES.get(name, 100))


@pytest.mark.parametrize(
    ("env_id", "scenario"),
    [
        ("hmarl_bench/Store-v0", "default"),
        ("hmarl_bench/Warehouse-v0", "default"),
        ("hmarl_bench/Warehouse-v0", "multi_sku"),
        ("hmarl_bench/Supplier-v0", "supplier_delay"),
    ],
)
def test_action_space_sample_takes_the_info_mask(env_id: str, scenario: str) -> None:
    """The call users type first: env.action_space.sample(mask=info["action_mask"])."""
    env = gymnasium.make(env_id, scenario=scenario)
    env.action_space.seed(0)
    _, info = env.reset(seed=0)
    while True:
        mask = info["action_mask"]
        action = env.action_space.sample(mask=mask)
        flat = env.get_wrapper_attr("action_masks")()  # MaskablePPO's flat bool form
        assert flat.dtype == bool and np.array_equal(flat, flat_mask(mask))
        rows = mask if isinstance(mask, tuple) else (mask,)
        assert all(row[a] == 1 for row, a in zip(rows, np.atleast_1d(action), strict=True))
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break


def test_gym_mask_and_flat_mask_round_trip() -> None:
    flat = np.array([1, 0, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0], dtype=bool)
    rows = gym_mask(flat, (4, 4, 4))
    assert isinstance(rows, tuple) and [r.tolist() for r in rows] == [
        [1, 0, 1, 1],
        [1, 1, 0, 0],
        [1, 0, 0, 0],
    ]
    assert all(r.dtype == np.int8 for r in rows)
    assert np.array_equal(flat_mask(rows), flat)
    uneven = gym_mask(flat[:5], (2, 3))
    assert [r.tolist() for r in uneven] == [[1, 0], [1, 1, 1]]
    single = gym_mask(flat[:4], 4)
    assert single.dtype == np.int8 and np.shares_memory(single, flat)  # a view, no copy
    assert action_sizes(spaces.MultiDiscrete([4, 4])) == (4, 4)
    assert action_sizes(spaces.Discrete(3)) == 3


@pytest.mark.parametrize("name", ["default", "multi_sku"])
def test_compiled_and_reference_masks_are_alike(name: str) -> None:
    envs = [HMARLEnvironment(name, compiled=c) for c in (True, False)]
    infos = [env.reset(seed=4)[1] for env in envs]
    for _ in range(30):
        for agent in envs[0].possible_agents:
            a, b = (i[agent]["action_mask"] for i in infos)
            assert type(a) is type(b)
            assert np.array_equal(flat_mask(a), flat_mask(b))
            assert {r.dtype for r in (a if isinstance(a, tuple) else (a,))} == {np.dtype(np.int8)}
        actions = envs[0].rule_actions()
        infos = [env.step(actions)[4] for env in envs]
    assert envs[0].action_masks().keys() == set(envs[0].possible_agents)
