"""Single-SKU scenarios behave bit for bit as when the golden digests were recorded.

See ``tests/golden.py``: every digest covers a whole episode of the env (rule and random
actions), the batched twin (every outcome and state field), SharedPolicyVecEnv, or a
baseline's KPIs. A failure names what changed.
"""

from __future__ import annotations

import json

import golden
import pytest

EXPECTED = json.loads(golden.GOLDEN_PATH.read_text())


@pytest.fixture(scope="module")
def actual() -> dict:
    return golden.compute()


def test_golden_covers_every_kind_of_run() -> None:
    kinds = {key.split("/")[0] for key in EXPECTED}
    assert kinds == {"env", "twin", "vec", "kpis"}
    assert len(EXPECTED) >= 50


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_single_sku_behaviour_is_unchanged(actual: dict, key: str) -> None:
    assert golden.differences({key: EXPECTED[key]}, actual) == []


ENV_KEYS = sorted(key for key in EXPECTED if key.startswith("env/"))


@pytest.mark.parametrize("key", ENV_KEYS)
def test_the_numpy_reference_env_matches_the_digests_too(key: str) -> None:
    """HMARLEnvironment(compiled=False), the documented reference, gives the same episodes
    as the default compiled day (both are held to the recorded digests)."""
    _, name, seed, mode = key.split("/")
    scenario = golden._variants().get(name, name)
    assert golden.env_episode(scenario, int(seed), mode, compiled=False) == EXPECTED[key]
