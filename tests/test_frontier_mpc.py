"""The 'frontier_mpc' benchmark (issue 11, deliverable 2): the rolling-horizon MILP on the new
scenarios, everything else shared with 'frontier' so its cells are copied, not rerun."""

from __future__ import annotations

from new_scenarios import NEW_SCENARIOS

from hmarl_bench.config import load_scenario
from hmarl_bench.harness.cells import build_cells
from hmarl_bench.harness.spec import load_benchmark

MPC = "tuned_mpc_free"
FAST_MPC = "tuned_mpc_fast_free"  # the same problem stopped at a 1% gap


def test_frontier_mpc_adds_the_milp_to_frontier_on_every_scenario() -> None:
    spec, frontier = load_benchmark("frontier_mpc"), load_benchmark("frontier")
    assert spec.scenarios == frontier.scenarios  # all twelve, the new six included
    assert set(NEW_SCENARIOS) <= set(spec.scenarios)
    milps = {MPC, FAST_MPC}
    assert milps <= set(spec.baselines) and not milps & set(frontier.baselines)
    assert set(spec.baselines) - milps == set(frontier.baselines)
    assert spec.algos == frontier.algos
    for key in ("training_seeds", "tuning_seeds", "validation_seeds", "evaluation_seeds"):
        assert getattr(spec, key) == getattr(frontier, key), key
    for name in spec.scenarios:  # the MILP models one SKU
        assert load_scenario(name).n_skus == 1


def test_frontier_mpc_shares_its_cells_with_frontier_and_default() -> None:
    """--reuse-from results/frontier results/default copies a cell only under the same id and
    fingerprint: every cell but the MILPs' must have frontier's, and the seed scenarios' exact
    MILP cells default's, or the run would train and solve them again."""
    frontier = {c.cell_id: c.fingerprint for c in build_cells(load_benchmark("frontier"))}
    default = {c.cell_id: c.fingerprint for c in build_cells(load_benchmark("default"))}
    spec = load_benchmark("frontier_mpc")
    cells = build_cells(spec)
    assert len([c for c in cells if c.policy == MPC]) == len(spec.scenarios)
    milps = {MPC, FAST_MPC}
    different = [
        c.cell_id
        for c in cells
        if c.policy not in milps and frontier.get(c.cell_id) != c.fingerprint
    ]
    assert not different
    seed_mpc = [c for c in cells if c.policy == MPC and c.scenario not in NEW_SCENARIOS]
    assert len(seed_mpc) == 6
    assert all(default.get(c.cell_id) == c.fingerprint for c in seed_mpc)
