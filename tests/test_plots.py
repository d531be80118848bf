"""Figures: every kind at both paper widths, checked on the matplotlib objects (panels,
labels, legend entries), and two builds byte for byte the same."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from hmarl_bench.harness import plots, stats
from hmarl_bench.harness.generalization import generalization_table
from hmarl_bench.harness.plots.curves import learner_steps, selected_checkpoints
from hmarl_bench.harness.plots.generalization import generalization_figure
from hmarl_bench.harness.plots.style import family_of, policy_order

#: A panel that constrained layout cannot fit is a failure, not a warning.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")

SCENARIOS = ("default", "three_stores")
EPISODES = (10, 11, 12, 13)
LEARNERS = {"ppo-stores": ("stores",), "ppo-warehouse": ("warehouse",)}
BASELINES = {"random": 130.0, "seed_ss_actions": 110.0, "tuned_ss_actions": 108.0,
             "tuned_ss_free": 70.0}  # fmt: skip
WIDTHS = (plots.ONE_COLUMN, plots.TWO_COLUMN)
DAYS = 20


def _kpis(cost: float, rng: np.random.Generator) -> dict[str, float]:
    total = 1000 * cost + rng.normal(0, 800)
    warehouse = 0.6 * total
    return {
        "total_cost": total,
        "holding_cost": 0.8 * total,
        "store_holding_cost": 0.8 * total - warehouse,
        "warehouse_holding_cost": warehouse,
        "lost_sales_cost": 0.15 * total,
        "ordering_cost": 0.05 * total,
        "fill_rate": min(1.0, 0.9 + cost / 2000),
        "lost_sales": 10.0,
        "mean_store_inventory": 100.0,
        "mean_warehouse_inventory": 1000.0,
        "store_reward": -10.0,
    }


def _trace(seed: int, rng: np.random.Generator) -> dict:
    stores = {
        name: {
            "on_hand": rng.uniform(0, 200, DAYS).tolist(),
            "ordered": rng.uniform(0, 80, DAYS).tolist(),
            "demand": rng.uniform(20, 60, DAYS).tolist(),
            "lost_sales": [5.0 if d in (9, 14) else 0.0 for d in range(DAYS)],
        }
        for name in ("store_1", "store_2")
    }
    warehouse = {
        "on_hand": rng.uniform(0, 3000, DAYS).tolist(),
        "ordered": [1000.0 if d % 5 == 0 else 0.0 for d in range(DAYS)],
        "shipped": rng.uniform(0, 100, DAYS).tolist(),
        "short": [3.0 if d == 12 else 0.0 for d in range(DAYS)],
    }
    return {"seed": seed, "days": list(range(DAYS)), "warmup_days": 3, "stores": stores,
            "warehouse": warehouse}  # fmt: skip


def _curve(policy: str, seed: int) -> list[dict]:
    """Validation cost over training; ppo-warehouse's second phase starts untrained (high)."""
    rows = []
    phases = [("stores", 1)] if policy == "ppo-stores" else [("stores", 1), ("warehouse", 1)]
    offset = 0
    for learner, rnd in phases:
        for t in range(0, 4001, 1000):
            cost = (600 if learner == "warehouse" else 150) * 1000 / (1 + t / 1000) + 70_000
            rows.append({"timesteps": offset + t, "mean_total_cost": cost + 500 * seed,
                         "mean_reward": -cost / 100, "learner": learner, "round": rnd})  # fmt: skip
        offset += 4000
    return rows


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    rows, curves, traces, tuning = [], [], {}, []
    for scenario in SCENARIOS:
        key = {"scenario": scenario}
        for policy in LEARNERS:
            for seed in (0, 1):
                cost = 75.0 if policy == "ppo-warehouse" else 109.0
                rows += [{**key, "policy": policy, "kind": "learner", "training_seed": seed,
                          "seed": e, **_kpis(cost, rng)} for e in EPISODES]  # fmt: skip
                curves += [{**key, "policy": policy, "kind": "learner", "training_seed": seed,
                            **row} for row in _curve(policy, seed)]  # fmt: skip
                traces[(scenario, policy, seed)] = _trace(EPISODES[0], rng)
        for policy, cost in BASELINES.items():
            rows += [{**key, "policy": policy, "kind": "baseline", "training_seed": None,
                      "seed": e, **_kpis(cost, rng)} for e in EPISODES]  # fmt: skip
            tuning += [{**key, "policy": policy, "seed": 1, "total_cost": 1000 * cost}]
            traces[(scenario, policy, None)] = _trace(EPISODES[0], rng)
        rows += [{**key, "policy": "clairvoyant", "kind": "clairvoyant", "training_seed": None,
                  "seed": e, **_kpis(60.0, rng)} for e in EPISODES]  # fmt: skip
        rows += [{**key, "policy": "cover_rule", "kind": "external", "training_seed": None,
                  "seed": e, **_kpis(65.0, rng)} for e in EPISODES]  # fmt: skip
    per_seed = pd.DataFrame(rows)
    per_seed["training_seed"] = per_seed["training_seed"].astype("Int64")
    summary = stats.summarize(per_seed, n_resamples=100)
    headline = stats.headline(per_seed, summary, n_resamples=100, tuning=pd.DataFrame(tuning))
    plots.set_style()
    return {
        "per_seed": per_seed,
        "headline": headline,
        "curves": pd.DataFrame(curves),
        "traces": traces,
        "styles": plots.policy_styles(headline),
    }


def _titles(fig: plt.Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]


def _caption(fig: plt.Figure) -> str:
    return " ".join(fig._suptitle.get_text().split())


def _legend_labels(fig: plt.Figure) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def _check_width(fig: plt.Figure, width: float) -> None:
    assert tuple(fig.get_size_inches())[0] == pytest.approx(width)
    fig.canvas.draw()  # the constrained layout fits: no panel collapsed
    assert all(ax.get_position().width > 0.05 for ax in fig.axes if ax.get_visible())
    plt.close(fig)


def test_one_policy_order_and_a_look_per_policy(data):
    order = policy_order(data["headline"])
    assert order == ["ppo-stores", "ppo-warehouse", "cover_rule", "random", "seed_ss_actions",
                     "tuned_ss_actions", "tuned_ss_free", "clairvoyant"]  # fmt: skip
    styles = data["styles"]
    looks = {(s.color if isinstance(s.color, str) else tuple(s.color), s.marker)
             for s in styles.values()}  # fmt: skip
    assert len(looks) == len(styles)  # every policy identifiable
    assert styles["seed_ss_actions"].color == styles["tuned_ss_free"].color  # one family
    assert styles["ppo-stores"].linestyle != styles["ppo-warehouse"].linestyle
    assert styles["cover_rule"].kind == "external"  # a brought policy: strong, never grey
    assert (data["headline"]["best_baseline"] == "tuned_ss_free").all()  # never external
    assert family_of("tuned_ss_free") == ("ss", True, True)


@pytest.mark.parametrize("width", WIDTHS)
def test_total_cost_and_per_seed_list_policies_in_one_order(data, width):
    order = policy_order(data["headline"])
    for fig in (
        plots.total_cost_figure(data["headline"], data["styles"], width),
        plots.per_seed_figure(data["per_seed"], data["headline"], data["styles"], width),
    ):
        assert _titles(fig) == list(SCENARIOS)
        first = fig.axes[0]
        assert [t.get_text() for t in first.get_yticklabels()] == order
        bold = [t.get_text() for t in first.get_yticklabels() if t.get_fontweight() == "bold"]
        assert bold == ["tuned_ss_free"]  # the reference
        assert all(ax.get_ylim() == first.get_ylim() for ax in fig.axes)
        assert "total cost" in fig.axes[-1].get_xlabel()
        _check_width(fig, width)
    fig = plots.total_cost_figure(data["headline"], data["styles"], width)
    assert "95% bootstrap CIs" in _caption(fig)
    assert "are narrower than their marker" in _caption(fig) or "every CI" in _caption(fig)
    plt.close(fig)


def test_per_seed_jitter_is_seeded(data):
    def offsets(seed: int) -> list[np.ndarray]:
        fig = plots.per_seed_figure(data["per_seed"], data["headline"], data["styles"], 7.0, seed)
        points = [c.get_offsets().copy() for ax in fig.axes for c in ax.collections]
        plt.close(fig)
        return points

    first, again, other = offsets(0), offsets(0), offsets(1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("width", WIDTHS)
def test_paired_difference_marks_the_reference_and_policies_out_of_range(data, width):
    fig = plots.paired_difference_figure(data["headline"], data["styles"], width)
    assert _titles(fig) == list(SCENARIOS)  # one reference everywhere: named in the caption
    assert "tuned_ss_free" in _caption(fig)
    first = fig.axes[0]
    assert any(line.get_xdata()[0] == 0 for line in first.lines)  # the reference's zero
    # random is far off the learners' and references' range: a value on the frame
    assert any(t.get_text().startswith("+") and t.get_text().endswith("%") for t in first.texts)
    assert "reference" in fig.axes[-1].get_xlabel()
    _check_width(fig, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_cost_breakdown_shows_store_and_warehouse_holding_apart(data, width):
    fig = plots.cost_breakdown_figure(data["headline"], data["styles"], width)
    assert _legend_labels(fig) == [
        "store holding", "warehouse holding", "lost-sales penalty", "ordering"
    ]  # fmt: skip
    ax, headline = fig.axes[0], data["headline"]
    warehouse = [c for c in ax.containers if c.get_label() == "warehouse holding"][0]
    rows = headline[headline["scenario"] == "default"].set_index("policy")
    order = [p for p in policy_order(headline) if p in rows.index]
    widths = [bar.get_width() for bar in warehouse]
    np.testing.assert_allclose(widths, rows.loc[order, "warehouse_holding_cost_mean"])
    _check_width(fig, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_service_vs_cost_names_every_policy_and_focuses_on_the_cluster(data, width):
    fig = plots.service_vs_cost_figure(data["headline"], data["styles"], width)
    labels = _legend_labels(fig)
    assert len(labels) == len(policy_order(data["headline"]))
    if width == plots.TWO_COLUMN:  # what each policy is; one column: the names only
        assert "tuned_ss_free ((s,S), free quantities, tuned)" in labels
        assert "cover_rule (brought policy)" in labels
        assert "clairvoyant bound (its cost)" in labels
    else:
        assert "tuned_ss_free" in labels and "bound (its cost)" in labels
    ax = fig.axes[0]
    random_cost = (
        data["headline"]
        .set_index(["scenario", "policy"])
        .loc[("default", "random"), "total_cost_mean"]
    )
    assert ax.get_xlim()[1] < random_cost  # random is off the range (on the frame)
    assert ax.get_ylabel() == "fill rate [%]"
    _check_width(fig, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_learning_curves_one_panel_per_scenario_and_learning_role(data, width):
    fig = plots.learning_curves_figure(data["curves"], data["styles"], width)
    assert _titles(fig)[:2] == ["default\nstores", "default\nwarehouse (log y)"]
    assert len(_titles(fig)) == len(SCENARIOS) * 2
    stores, warehouse = fig.axes[0], fig.axes[1]
    assert stores.get_ylabel() == "validation total cost\n[currency/episode]"
    if width == plots.TWO_COLUMN:  # one column: "training steps", the role in the title
        assert stores.get_xlabel() == "stores' training steps"
        assert warehouse.get_xlabel() == "warehouse's training steps"
    assert warehouse.get_xlim()[1] < 5000  # its own steps, not the cell's cumulative ones
    checkpoint = "selected checkpoint" + (" (per training seed)" if width > 4 else "")
    assert _legend_labels(fig) == ["ppo-stores", "ppo-warehouse", checkpoint]
    handles = fig.legends[0].legend_handles
    assert all(h.get_marker() not in (None, "None", "") for h in handles[:2])  # markers too
    styles = {line.get_linestyle() for line in stores.lines} - {"None"}
    assert len(styles) == 2  # learners told apart by line style too
    _check_width(fig, width)


def test_learner_steps_restart_per_role_and_checkpoints_are_the_minima(data):
    frame = learner_steps(data["curves"])
    mine = frame[(frame["policy"] == "ppo-warehouse") & (frame["scenario"] == "default")]
    phase = mine[(mine["training_seed"] == 0) & (mine["role"] == "warehouse")]
    assert phase["steps"].tolist() == [0, 1000, 2000, 3000, 4000]
    chosen = selected_checkpoints(frame)
    assert len(chosen) == len(SCENARIOS) * 2 * (1 + 2)  # runs x phases
    assert (chosen["steps"] == 4000).all()  # the curves fall: the last is the best


@pytest.mark.parametrize("width", WIDTHS)
def test_episode_figure_compares_like_with_like_and_says_who_learned(data, width):
    group = data["headline"][data["headline"]["scenario"] == "default"]
    columns = plots.episode_columns(group, data["traces"], LEARNERS, width < 7)
    names = [name for name, _, _ in columns]
    if width < 7:
        assert names == ["ppo-stores", "tuned_ss_actions"]  # the first learner and its pair
    else:
        assert names == ["ppo-stores", "ppo-warehouse", "tuned_ss_actions", "tuned_ss_free"]
    titles = dict((name, title) for name, title, _ in columns)
    assert "learned: stores; rules: warehouse, supplier" in titles["ppo-stores"]
    assert "(best on store actions)" in titles["tuned_ss_actions"]
    fig = plots.episode_figure("default", columns, data["styles"], width)
    assert fig.axes[0].get_ylabel() == "stock" and fig.axes[len(columns)].get_ylabel() == "flows"
    assert len(fig.axes) == 2 * 3 * len(columns)  # two stores and the warehouse, two panels
    stock = fig.axes[0]
    stockouts = [line for line in stock.lines if line.get_marker() == "^"][0]
    assert stockouts.get_xdata().tolist() == [9, 14]
    bars = fig.axes[len(columns)].containers[0]
    assert len(bars) == DAYS  # orders drawn as bars, as the legend's patch says
    assert "order placed [units]" in _legend_labels(fig)
    _check_width(fig, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_generalization_legend_is_neutral_and_names_the_reference(data, width):
    transfers = data["per_seed"][data["per_seed"]["kind"] == "learner"].copy()
    transfers = transfers.rename(columns={"scenario": "target_scenario"})
    transfers["train_scenario"] = "default"
    transfers = transfers[transfers["target_scenario"] == "three_stores"]
    table = generalization_table(transfers, data["per_seed"], data["headline"], n_resamples=100)
    fig = generalization_figure(table, data["styles"], width)
    labels = _legend_labels(fig)
    assert labels[0].startswith("trained on default") and "reference" in labels[2]
    assert all(h.get_color() in ("black", "k") for h in fig.legends[0].legend_handles[:1])
    assert [t.get_text() for t in fig.axes[0].texts] == ["tuned_ss_free"]
    _check_width(fig, width)


def test_two_builds_are_byte_identical(data, tmp_path):
    def build(folder):
        return plots.plot_all(
            folder, data["headline"], data["per_seed"], data["curves"], data["traces"], 0,
            LEARNERS,
        )  # fmt: skip

    first, second = build(tmp_path / "a"), build(tmp_path / "b")
    names = sorted(p.name for p in first)
    assert names == sorted(p.name for p in second)
    assert {"total_cost.pdf", "total_cost_1col.png", "episode_three_stores_1col.pdf"} <= set(names)
    for a, b in zip(sorted(first), sorted(second), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    pdf = (tmp_path / "a" / "per_seed.pdf").read_bytes()
    assert b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    assert b"Software" not in (tmp_path / "a" / "per_seed.png").read_bytes()


def test_long_scenario_names_break_in_panel_titles() -> None:
    from hmarl_bench.harness.plots.style import scenario_title

    assert scenario_title("default") == "default"
    assert scenario_title("regimes_long_lead_three_stores") == "regimes_long_\nlead_three_stores"
    assert scenario_title("six_stores_regimes_outages") == "six_stores_\nregimes_outages"
    assert scenario_title("averyveryverylongnamewithoutunderscores") == (
        "averyveryverylongnamewithoutunderscores"
    )


def test_episode_pages_keep_few_columns_with_their_rules(data, monkeypatch):
    from hmarl_bench.harness.plots import episode

    group = data["headline"][data["headline"]["scenario"] == "default"]
    monkeypatch.setattr(episode, "LEARNERS_PER_PAGE", 1)
    pages = plots.episode_pages(group, data["traces"], LEARNERS, one_column=False)
    assert [[name for name, _, _ in page] for page in pages] == [
        ["ppo-stores", "tuned_ss_actions"],  # a store learner: the best rule on store actions
        ["ppo-warehouse", "tuned_ss_free"],  # a warehouse learner: the reference
    ]
    assert len(plots.episode_pages(group, data["traces"], LEARNERS, one_column=True)) == 1
