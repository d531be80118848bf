"""Bring your own policy: policies named by import path land in the benchmark's tables."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from hmarl_bench import HMARLEnvironment, load_scenario
from hmarl_bench.benchmark import run_benchmark
from hmarl_bench.evaluation import evaluate
from hmarl_bench.harness.cells import EXTERNAL, CellStore, build_cells
from hmarl_bench.harness.external import AgentPolicyController, make_controller
from hmarl_bench.harness.factory_refs import ExternalPolicyError, source_digest
from hmarl_bench.harness.spec import BenchmarkError, benchmark_from_dict

EXAMPLE = "experiments.policies.cover_rule"
SEEDS = [10000, 10001, 10002]


def _config(**changes) -> dict:
    config = {
        "name": "byop",
        "scenarios": ["default"],
        "baselines": ["seed_ss_actions", "random"],
        "tuning_seeds": [100],  # where the reference (the best baseline) is chosen
        "evaluation_seeds": SEEDS,
        "clairvoyant": False,
        "statistics": {"n_resamples": 200},
        "external": [
            {"name": "cover_rule", "factory": f"{EXAMPLE}:make"},
            {"name": "base_stock_9d", "factory": f"{EXAMPLE}:make_controller"},
        ],
    }
    config.update(changes)
    return config


def test_external_policies_appear_in_the_headline_table(tmp_path) -> None:
    spec = benchmark_from_dict(_config())
    summary = run_benchmark(spec, tmp_path, progress=False, figures=True)
    assert not summary.failed and summary.n_ran == 4
    headline = pd.read_csv(tmp_path / "byop" / "tables" / "headline.csv")
    rows = headline.set_index("policy")
    assert rows.loc["cover_rule", "kind"] == rows.loc["base_stock_9d", "kind"] == EXTERNAL
    assert rows.loc["cover_rule", "n_episodes"] == len(SEEDS)
    assert set(headline["best_baseline"]) == {"seed_ss_actions"}  # never an external one
    assert np.isfinite(rows.loc["cover_rule", "p_improvement"])
    text = (tmp_path / "byop" / "tables" / "headline.md").read_text()
    assert "| cover_rule |" in text and "| base_stock_9d |" in text
    assert (tmp_path / "byop" / "figures" / "total_cost.png").is_file()
    stored = CellStore(tmp_path / "byop").load(build_cells(spec)[2])
    assert stored["info"]["form"] == "agent_policy"
    assert stored["info"]["factory"] == f"{EXAMPLE}:make"


@pytest.mark.parametrize("name", ["default", "multi_sku"])
def test_agent_policy_runs_the_env_episode_of_each_seed(name: str) -> None:
    """Batched with common random numbers, the per-agent policy meets exactly the episode
    HMARLEnvironment gives it for the same seed: the same observations, masks and costs."""
    scenario = load_scenario(name)
    controller, form = make_controller(f"{EXAMPLE}:make", scenario)
    assert form == "agent_policy" and isinstance(controller, AgentPolicyController)
    frame = evaluate(scenario, controller, SEEDS[:2])
    policy = controller.policy
    for seed, expected in zip(SEEDS[:2], frame["total_cost"], strict=True):
        env = HMARLEnvironment(name)
        obs, infos = env.reset(seed=seed)
        total = 0.0
        while env.agents:
            actions = {a: policy(a, obs[a], infos[a]["action_mask"]) for a in env.agents}
            day = env.day
            obs, _, _, _, infos = env.step(actions)
            if day >= scenario.warmup_days:
                total += infos["store_1" if name == "default" else "warehouse_1"]["system"][
                    "total_cost"
                ]
        assert total == pytest.approx(expected, rel=1e-12)


def test_fingerprint_holds_the_factory_module_source(tmp_path, monkeypatch) -> None:
    package = tmp_path / "my_policies"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = package / "rule.py"
    module.write_text("def make(scenario):\n    return lambda agent, obs, mask: 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = _config(external=[{"name": "mine", "factory": "my_policies.rule:make"}])
    before = {c.cell_id: c.fingerprint for c in build_cells(benchmark_from_dict(config))}
    module.write_text("def make(scenario):\n    return lambda agent, obs, mask: 1\n")
    after = {c.cell_id: c.fingerprint for c in build_cells(benchmark_from_dict(config))}
    assert before["default__mine"] != after["default__mine"]
    assert before["default__random"] == after["default__random"]
    assert source_digest("my_policies.rule:make") != source_digest(f"{EXAMPLE}:make")
    sys.modules.pop("my_policies.rule", None)
    sys.modules.pop("my_policies", None)


@pytest.mark.parametrize(
    ("external", "words"),
    [
        ([{"name": "x", "factory": "no colon"}], "external[0].factory"),
        ([{"name": "x", "factory": "no_such_module_xyz:make"}], "cannot find module"),
        ([{"name": "random", "factory": f"{EXAMPLE}:make"}], "already a policy"),
        ([{"name": "x", "factory": f"{EXAMPLE}:make", "seed": 1}], "external[0].seed"),
        ([{"factory": f"{EXAMPLE}:make"}], "external[0].name"),
    ],
)
def test_bad_external_entries_name_the_key(external: list, words: str) -> None:
    with pytest.raises(BenchmarkError, match=words.replace("[", r"\[").replace("]", r"\]")):
        benchmark_from_dict(_config(external=external))


def test_a_benchmark_of_external_policies_alone_is_valid() -> None:
    spec = benchmark_from_dict(_config(baselines=[]))
    assert spec.policies == ("cover_rule", "base_stock_9d")


def _module(tmp_path, monkeypatch, name: str, source: str) -> str:
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)
    return name


def test_object_with_act_and_reset_is_a_per_agent_policy(tmp_path, monkeypatch) -> None:
    name = _module(
        tmp_path,
        monkeypatch,
        "act_policy_mod",
        """
        class Policy:
            resets = 0
            def reset(self):
                Policy.resets += 1
            def act(self, agent_id, observation, action_mask):
                return 2 if agent_id.startswith("store") else 0
        def make(scenario):
            return Policy()
        """,
    )
    controller, form = make_controller(f"{name}:make", load_scenario("default"))
    frame = evaluate("default", controller, SEEDS[:1])
    assert form == "agent_policy" and len(frame) == 1 and controller.policy.resets == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("return 'not a policy'", "returned a str, which is neither a ChainController"),
        ("return lambda agent, obs, mask: 7", "must be an integer in \\[0, 4\\) or None"),
        ("return lambda agent, obs, mask: 1.5", "must be an integer"),
        ("raise RuntimeError('boom')", "boom"),
    ],
)
def test_bad_policies_fail_with_a_clear_error(tmp_path, monkeypatch, body, words) -> None:
    name = _module(tmp_path, monkeypatch, "bad_policy_mod", f"def make(scenario):\n    {body}\n")
    with pytest.raises((ExternalPolicyError, RuntimeError), match=words):
        controller, _ = make_controller(f"{name}:make", load_scenario("default"))
        evaluate("default", controller, SEEDS[:1])


def test_a_failing_external_cell_is_recorded(tmp_path, monkeypatch) -> None:
    name = _module(
        tmp_path, monkeypatch, "failing_policy_mod", "def make(scenario):\n    return 3\n"
    )
    external = [{"name": "bad", "factory": f"{name}:make"}]
    spec = benchmark_from_dict(_config(baselines=[], external=external))
    summary = run_benchmark(spec, tmp_path / "out", progress=False, figures=False)
    assert summary.failed == ["default__bad"]
    error = CellStore(tmp_path / "out" / "byop").error(build_cells(spec)[0])
    assert "ExternalPolicyError" in error["error"]


class _Broken:
    """The default rules' decisions, spoiled by ``spoil`` from day 3 on."""

    def __init__(self, spoil) -> None:
        from hmarl_bench.evaluation import RoleController

        self.rules, self.spoil = RoleController(), spoil

    def reset(self, scenario, batch_size) -> None:
        self.rules.reset(scenario, batch_size)

    def decide(self, view):
        decision = self.rules.decide(view)
        return self.spoil(*decision) if view.day >= 3 else decision


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (
            lambda s, w, p: (s[:, :1], w, p),
            r"store orders must have shape \(2, 2\); got shape \(2, 1\)",
        ),  # noqa: E501
        (lambda s, w, p: (5.0, w, p), r"store orders must have shape \(2, 2\); got shape \(\)"),
        (lambda s, w, p: (s - 1e6, w, p), r"store orders must be finite whole units >= 0; got -"),
        (
            lambda s, w, p: (s, w * np.nan, p),
            r"warehouse orders must be finite .*got nan \(copy 0\)",
        ),  # noqa: E501
        (lambda s, w, p: (s, w, p) if False else (s + np.inf, w, p), r"store orders .*got inf"),
        (lambda s, w, p: (s + 0.5, w, p), r"store orders must be finite whole units .*\.5"),
        (lambda s, w, p: (s, w, p + 3), r"supplier actions must be in \[0, 3\).*got 3"),
        (lambda s, w, p: [s, w, p], r"decide\(\) must return a tuple .*got a list of 3"),
        (lambda s, w, p: (s, w), r"decide\(\) must return a tuple .*got a tuple of 2"),
        (lambda s, w, p: (s, "lots", p), r"warehouse orders must be numbers; got str 'lots'"),
    ],
)
def test_a_brought_controller_is_checked_every_day(spoil, words) -> None:
    from hmarl_bench.harness.external import CheckedController

    controller = CheckedController(_Broken(spoil), "my_rule")
    with pytest.raises(ExternalPolicyError, match=f"^policy 'my_rule', day 3: {words}") as err:
        evaluate("default", controller, SEEDS[:2])
    assert "\n" not in str(err.value)


def test_checking_leaves_good_decisions_as_they_are() -> None:
    from hmarl_bench.evaluation import RoleController
    from hmarl_bench.harness.external import CheckedController

    plain = evaluate("default", RoleController(), SEEDS)
    checked = evaluate("default", CheckedController(RoleController(), "rules"), SEEDS)
    pd.testing.assert_frame_equal(plain, checked)


def test_a_per_agent_policy_error_names_the_policy_and_day(tmp_path, monkeypatch) -> None:
    from hmarl_bench.harness.external import CheckedController

    def policy(agent, observation, mask):
        return [[1], [1, 2]] if agent == "supplier_1" else 1  # ragged: no action

    controller = CheckedController(AgentPolicyController(policy), "ragged")
    with pytest.raises(ExternalPolicyError, match=r"^policy 'ragged', day 0: .*supplier_1"):
        evaluate("default", controller, SEEDS[:1])


def test_a_bad_controller_fails_its_cell_with_the_policy_and_day(tmp_path, monkeypatch) -> None:
    name = _module(
        tmp_path,
        monkeypatch,
        "negative_policy_mod",
        """
        from hmarl_bench.evaluation import RoleController

        class Negative(RoleController):
            def decide(self, view):
                stores, warehouse, supplier = super().decide(view)
                return stores - 1e9, warehouse, supplier

        def make(scenario):
            return Negative()
        """,
    )
    external = [{"name": "negative", "factory": f"{name}:make"}]
    spec = benchmark_from_dict(_config(baselines=[], external=external))
    summary = run_benchmark(spec, tmp_path / "out", progress=False, figures=False)
    assert summary.failed == ["default__negative"]
    error = CellStore(tmp_path / "out" / "byop").error(build_cells(spec)[0])["error"]
    assert "policy 'negative', day 0: store orders must be finite whole units >= 0" in error
