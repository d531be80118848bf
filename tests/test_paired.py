"""Paired statistics: the reference chosen on the tuning seeds, differences to it with a
two-level bootstrap, verdicts and the share of the gap to the bound closed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hmarl_bench.harness import paired, stats

EPISODES = (1, 2, 3, 4, 5, 6)


def _rows(policy: str, kind: str, costs, training_seed=None) -> list[dict]:
    return [
        {
            "scenario": "s",
            "policy": policy,
            "kind": kind,
            "training_seed": training_seed,
            "seed": seed,
            "total_cost": float(cost),
        }
        for seed, cost in zip(EPISODES, costs, strict=True)
    ]


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["training_seed"] = frame["training_seed"].astype("Int64")
    return frame


def _tuning(costs: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"scenario": "s", "policy": policy, "seed": seed, "total_cost": cost + seed}
            for policy, cost in costs.items()
            for seed in (100, 101)
        ]
    )


DEMAND = np.array([100.0, 180.0, 90.0, 150.0, 120.0, 200.0])  # hard and easy episodes


def _headline(episodes: pd.DataFrame, tuning: pd.DataFrame) -> pd.DataFrame:
    summary = stats.summarize(episodes, metrics=["total_cost"], n_resamples=300)
    table = stats.headline(episodes, summary, n_resamples=300, tuning=tuning)
    return table.set_index("policy")


def test_reference_is_chosen_on_the_tuning_seeds_not_the_evaluation_episodes():
    # "lucky_rule" is cheapest on the evaluation episodes, "rule" on the tuning seeds.
    rows = _rows("rule", "baseline", DEMAND) + _rows("lucky_rule", "baseline", DEMAND - 5)
    rows += _rows("rule_free", "baseline", DEMAND - 20) + _rows(
        "lucky_free", "baseline", DEMAND - 30
    )
    rows += _rows("ppo", "learner", DEMAND + 1, training_seed=0)
    tuning = _tuning({"rule": 50.0, "lucky_rule": 60.0, "rule_free": 30.0, "lucky_free": 40.0})
    table = _headline(_frame(rows), tuning)
    assert (table["best_baseline"] == "rule_free").all()
    assert (table["best_actions_baseline"] == "rule").all()
    assert table.loc["ppo", "best_baseline_tuning_cost"] == pytest.approx(130.5)  # 30 + seed
    # against the reference chosen on the tuning seeds, not the evaluation's lowest mean
    assert table.loc["ppo", "diff_to_reference_mean"] == pytest.approx(21.0)
    assert table.loc["ppo", "diff_to_actions_reference_mean"] == pytest.approx(1.0)
    assert table.loc["lucky_free", "verdict"] == "beats"


def test_learners_and_other_kinds_are_never_the_reference():
    rows = _rows("rule", "baseline", DEMAND) + _rows("ppo", "learner", DEMAND - 50, 0)
    rows += _rows("their_policy", "external", DEMAND - 60)
    rows += _rows("clairvoyant", "clairvoyant", DEMAND - 70)
    table = _headline(_frame(rows), _tuning({"rule": 50.0}))
    assert (table["best_baseline"] == "rule").all()
    assert table.loc["ppo", "verdict"] == "beats"


def test_the_paired_ci_of_a_policy_against_itself_is_exactly_zero():
    rng = np.random.default_rng(3)
    rows = _rows("rule", "baseline", rng.normal(1000, 300, len(EPISODES)))
    rows += _rows("other", "baseline", rng.normal(1000, 300, len(EPISODES)))
    table = _headline(_frame(rows), _tuning({"rule": 1.0, "other": 2.0}))
    ref = table.loc["rule"]
    assert (ref["diff_to_reference_mean"], ref["diff_to_reference_ci_low"]) == (0.0, 0.0)
    assert ref["diff_to_reference_ci_high"] == 0.0 and ref["verdict"] == "reference"
    mine = _frame(_rows("rule", "baseline", DEMAND))
    itself = stats.paired_difference(mine, mine.set_index("seed")["total_cost"])
    assert (itself.mean, itself.ci_low, itself.ci_high) == (0.0, 0.0, 0.0)


def test_pairing_removes_the_episode_noise_that_marginal_cis_carry():
    # a constant 3 below the reference on every episode: the marginal CIs overlap widely,
    # the paired difference is exactly -3 with a zero-width interval: it beats the reference
    rows = _rows("rule", "baseline", DEMAND) + _rows("better", "baseline", DEMAND - 3)
    table = _headline(_frame(rows), _tuning({"rule": 1.0, "better": 2.0}))
    better = table.loc["better"]
    assert better["total_cost_ci_high"] > table.loc["rule", "total_cost_ci_low"]
    assert (better["diff_to_reference_ci_low"], better["diff_to_reference_ci_high"]) == (-3, -3)
    assert better["verdict"] == "beats"


def test_two_level_bootstrap_resamples_training_seeds():
    reference = pd.Series(DEMAND, index=EPISODES)
    # two training seeds, each a constant offset from the reference: resampling episodes
    # alone would give a zero-width interval; resampling seeds spans the offsets
    mine = _frame(
        _rows("ppo", "learner", DEMAND + 10, training_seed=0)
        + _rows("ppo", "learner", DEMAND - 30, training_seed=1)
    )
    result = stats.paired_difference(mine, reference, n_resamples=2000, rng=0)
    assert result.mean == pytest.approx(-10.0)
    assert result.n_training_seeds == 2 and result.n_episodes == len(EPISODES)
    assert result.ci_low == pytest.approx(-30.0) and result.ci_high == pytest.approx(10.0)
    assert paired.verdict(result) == "ties"
    again = stats.paired_difference(mine, reference, n_resamples=2000, rng=0)
    assert again == result  # seeded


def test_share_of_the_gap_to_the_bound_closed_by_hand():
    reference = pd.Series(DEMAND, index=EPISODES)
    bound = reference - 40.0
    mine = _frame(_rows("p", "baseline", DEMAND - 10))
    result = stats.paired_difference(mine, reference, bound, n_resamples=500)
    assert result.gap_closed == pytest.approx(0.25)  # 10 of the 40
    assert result.gap_closed_ci_low == pytest.approx(0.25)
    assert result.gap_closed_ci_high == pytest.approx(0.25)
    on_bound = stats.paired_difference(
        _frame(_rows("b", "baseline", DEMAND - 40)), reference, bound
    )
    assert on_bound.gap_closed == pytest.approx(1.0)


def test_missing_tuning_scores_are_an_error_not_a_fallback():
    rows = _rows("rule", "baseline", DEMAND) + _rows("other", "baseline", DEMAND)
    with pytest.raises(paired.ReferenceChoiceError, match="other"):
        _headline(_frame(rows), _tuning({"rule": 1.0}))
    with pytest.raises(paired.ReferenceChoiceError, match="no tuning-seed scores"):
        stats.headline(
            _frame(rows), stats.summarize(_frame(rows), metrics=["total_cost"], n_resamples=100)
        )


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(-5.0, -1.0, "beats"), (-5.0, 1.0, "ties"), (0.0, 0.0, "ties"), (1.0, 4.0, "loses")],
)
def test_verdicts_follow_the_interval(low, high, expected):
    assert paired.verdict(paired.PairedDifference(0.0, low, high, 1, 5)) == expected
