"""The style registry (one look per policy name in every benchmark), paper-size pages,
distinct tick labels, the zoomed headline, joint-planner curves and the episode's
comparator named by what it runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import font_manager

from hmarl_bench.baselines.registry import BASELINES
from hmarl_bench.harness import plots, stats
from hmarl_bench.harness.plots.episode import roles_text
from hmarl_bench.harness.plots.registry import (
    _LEARNERS,
    BOUND_STYLE,
    LEARNER_COLORS,
    RULE_COLORS,
    lookup,
    short_label,
    styles_for,
)
from hmarl_bench.harness.plots.style import MAX_HEIGHT, ThousandsFormatter
from hmarl_bench.harness.plots.zoom import strongest

pytestmark = pytest.mark.filterwarnings("error::UserWarning")

LEARNERS = ("ppo-stores", "maskable_ppo-joint-planner-local-critic", "ppo-residual")
RULES = {"random": 3.0, "seed_ss_actions": 1.6, "tuned_ss_free": 1.2,
         "tuned_echelon_base_stock_free": 1.15, "tuned_echelon_actions": 1.04,
         "tuned_echelon_free": 1.0, "tuned_mpc_free": 1.01}  # fmt: skip
SCENARIOS = [f"scenario_with_a_long_name_{i}" for i in range(10)]


def test_a_policy_looks_the_same_in_every_benchmark():
    one = styles_for({"ppo-residual": "learner", "seed_ss_actions": "baseline",
                      "clairvoyant": "clairvoyant", "tuned_mpc_free": "baseline"})  # fmt: skip
    other = styles_for({"tuned_mpc_free": "baseline", "maskable_ppo": "learner",
                        "ppo-residual": "learner", "random": "baseline"})  # fmt: skip
    for name in set(one) & set(other):
        assert one[name] == other[name], name
    # the look-alikes of the old figures now differ
    assert one["ppo-residual"].color != one["seed_ss_actions"].color
    assert one["tuned_mpc_free"].color != one["clairvoyant"].color == BOUND_STYLE.color


def test_families_look_apart_and_every_registered_look_is_unique():
    learners = {name: lookup(name, "learner") for name in _LEARNERS}
    assert all(s.color in LEARNER_COLORS for s in learners.values())
    assert not set(RULE_COLORS.values()) & set(LEARNER_COLORS)
    assert BOUND_STYLE.color not in set(RULE_COLORS.values()) | set(LEARNER_COLORS)
    rules = list(BASELINES)  # every rule the suite has
    looks = [(s.color, s.marker, str(s.linestyle)) for s in learners.values()]
    looks += [(s.color, s.marker, "-") for s in (lookup(r, "baseline") for r in rules)]
    assert len(set(looks)) == len(looks)
    assert {lookup(r, "baseline").marker for r in rules} <= {"o", "s", "^", "D", "x"}
    assert not {s.marker for s in learners.values()} & {"o", "s", "^", "D", "x", "d"}


def test_unknown_names_get_a_stable_hashed_look_that_never_repeats_a_neighbour():
    kinds = {f"my_learner_{i}": "learner" for i in range(12)} | {"ppo": "learner"}
    first, again = styles_for(kinds), styles_for(dict(reversed(kinds.items())))
    assert first == again  # by name, not by position
    looks = [(s.color, s.marker, str(s.linestyle)) for s in first.values()]
    assert len(set(looks)) == len(looks)
    assert first["ppo"] == lookup("ppo", "learner")  # registered names keep theirs
    assert lookup("my_learner_3", "learner") == lookup("my_learner_3", "learner")


def test_one_column_labels_are_abbreviated_and_two_column_labels_whole():
    name = "maskable_ppo-joint-planner-local-critic"
    assert short_label(name, narrow=False) == name
    assert short_label(name, narrow=True) == "mppo-joint-lc"
    assert short_label("tuned_echelon_base_stock_free", narrow=True) == "t_ech_bs_free"
    assert short_label("random", narrow=True) == "random"


def test_tick_labels_are_never_repeated():
    fmt = ThousandsFormatter()
    assert fmt.format_ticks([22_900, 23_000, 23_100]) == ["22.9k", "23.0k", "23.1k"]
    assert fmt.format_ticks([0, 50_000, 100_000]) == ["0", "50k", "100k"]
    assert fmt.format_ticks([50_000, 500_000, 1_000_000]) == ["50k", "500k", "1M"]


@pytest.fixture(scope="module")
def wide():
    """Ten scenarios with long names and eleven policies: more than one page holds."""
    rng = np.random.default_rng(1)
    rows, tuning = [], []
    for scenario in SCENARIOS:
        key = {"scenario": scenario}
        for policy in LEARNERS:
            for seed in (0, 1):
                rows += [{**key, "policy": policy, "kind": "learner", "training_seed": seed,
                          "seed": e, "total_cost": 100_000 * (1.03 + rng.normal(0, 0.01))}
                         for e in range(4)]  # fmt: skip
        for policy, factor in RULES.items():
            rows += [{**key, "policy": policy, "kind": "baseline", "training_seed": None,
                      "seed": e, "total_cost": 100_000 * factor + rng.normal(0, 500)}
                     for e in range(4)]  # fmt: skip
            tuning += [{**key, "policy": policy, "seed": 1, "total_cost": 100_000 * factor}]
        rows += [{**key, "policy": "clairvoyant", "kind": "clairvoyant", "training_seed": None,
                  "seed": e, "total_cost": 60_000.0} for e in range(4)]  # fmt: skip
    per_seed = pd.DataFrame(rows)
    for column in ("fill_rate", "holding_cost", "lost_sales_cost", "ordering_cost"):
        per_seed[column] = 0.95 if column == "fill_rate" else per_seed["total_cost"] / 3
    per_seed["training_seed"] = per_seed["training_seed"].astype("Int64")
    summary = stats.summarize(per_seed, n_resamples=50)
    headline = stats.headline(per_seed, summary, n_resamples=50, tuning=pd.DataFrame(tuning))
    plots.set_style()
    return headline, per_seed, plots.policy_styles(headline)


def _inside(fig: plt.Figure) -> None:
    """Nothing drawn past the figure's edges: legends, titles, tick labels."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    artists = list(fig.legends) + [fig._suptitle] if fig._suptitle else list(fig.legends)
    for ax in fig.axes:
        if ax.get_visible():
            x0, x1 = sorted(ax.get_xlim())
            y0, y1 = sorted(ax.get_ylim())
            shown = [t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1]
            shown += [t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1]
            artists += [ax.title, *shown]
    for artist in artists:
        if not artist.get_visible() or not getattr(artist, "get_text", lambda: "x")():
            continue
        box = artist.get_window_extent(renderer)
        assert box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1, artist
        assert box.y0 >= frame.y0 - 1 and box.y1 <= frame.y1 + 1, artist


@pytest.mark.parametrize("width", [plots.ONE_COLUMN, plots.TWO_COLUMN])
def test_pages_keep_every_figure_within_nine_inches(wide, width):
    headline, per_seed, styles = wide
    plots.set_style(width)
    height = plots.panel_height(len(plots.policy_order(headline)), width)
    pages = plots.scenario_pages(headline, width, height)
    assert len(pages) > 1 and sum(p["scenario"].nunique() for p in pages) == len(SCENARIOS)
    sizes = [p["scenario"].nunique() for p in pages]
    assert max(sizes) - min(sizes) <= plots.grid_columns(width)  # balanced pages
    for page in pages:
        fig = plots.total_cost_figure(page, styles, width)
        assert fig.get_size_inches()[1] <= MAX_HEIGHT
        _inside(fig)
        plt.close(fig)


@pytest.mark.parametrize("width", [plots.ONE_COLUMN, plots.TWO_COLUMN])
def test_zoom_shows_the_strongest_policies_with_visible_intervals(wide, width):
    headline, _, styles = wide
    plots.set_style(width)
    kept = strongest(headline)
    assert "tuned_mpc_free" in kept and "tuned_echelon_actions" in kept
    assert "random" not in kept and "clairvoyant" not in kept
    page = headline[headline["scenario"].isin(SCENARIOS[:2])]
    fig = plots.zoom_figure(page, styles, width)
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert low < 0 < high and high - low < 15  # a few % wide, not the random policy's 200%
    caps = [line for line in ax.lines if line.get_marker() == "|"]
    assert caps and min(c.get_zorder() for c in caps) > max(
        line.get_zorder() for line in ax.lines if line.get_marker() not in ("|", "None", None)
    )  # the CIs' caps are drawn over the markers
    _inside(fig)
    plt.close(fig)


def test_joint_planner_curves_get_their_own_panels(wide):
    _, _, styles = wide
    rows = []
    for learner, policy in (("joint", "maskable_ppo-joint-planner-local-critic"),
                            (None, "ppo-stores")):  # fmt: skip
        for seed in (0, 1):
            rows += [{"scenario": "s", "policy": policy, "kind": "learner", "training_seed": seed,
                      "timesteps": t, "mean_total_cost": 1e5 / (1 + t / 1e3), "learner": learner,
                      "round": 1} for t in range(0, 5000, 1000)]  # fmt: skip
    styles = {**styles, **plots.policy_styles(pd.DataFrame(
        {"policy": ["ppo-stores"], "kind": ["learner"]}))}  # fmt: skip
    fig = plots.learning_curves_figure(pd.DataFrame(rows), styles, plots.TWO_COLUMN)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["s\nstores (log y)", "s\njoint planner (log y)"]
    joint = fig.axes[1]
    assert joint.get_xlabel() == "joint planner's training steps"
    assert any(len(line.get_xdata()) == 5 for line in joint.lines)  # the curve is drawn
    _inside(fig)
    plt.close(fig)


def test_the_episode_comparator_is_named_by_the_warehouse_rule_it_runs():
    assert roles_text("tuned_echelon_actions", "baseline", None) == (
        "rules: stores (4 actions), warehouse echelon (s,S)"
    )
    assert roles_text("tuned_ss_actions", "baseline", None).endswith("warehouse seed (s,S)")
    assert "rolling-horizon MILP" in roles_text("tuned_mpc_free", "baseline", None)


def test_text_is_set_in_matplotlibs_bundled_font_whatever_the_font_cache_lists_first(tmp_path):
    """A fresh install's font cache may list a system copy of DejaVu Sans (another version)
    first, or a font of seaborn's default list (Arial): the figures must not follow it."""
    manager = font_manager.fontManager
    saved = list(manager.ttflist)
    bundled = Path(matplotlib.get_data_path(), "fonts", "ttf").resolve()
    regular = next(f for f in saved if Path(f.fname).resolve() == bundled / "DejaVuSans.ttf")
    copy = tmp_path / "DejaVuSans.ttf"  # a "system" copy, listed before the bundled one
    copy.write_bytes(Path(regular.fname).read_bytes())
    try:
        manager.ttflist = [dataclasses.replace(regular, fname=str(copy)), *saved]
        manager._findfont_cached.cache_clear()
        plots.set_style()
        found = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
        assert Path(found).resolve() == bundled / "DejaVuSans.ttf"
    finally:
        manager.ttflist = saved
        manager._findfont_cached.cache_clear()
