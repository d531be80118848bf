"""The 'frontier_mpc' benchmark (issue 11, deliverable 2): the rolling-horizon MILP on the new
scenarios, everything else shared with 'frontier' so its cells are copied, not rerun."""

from __future__ import annotations

from new_scenarios import NEW_SCENARIOS

from hmarl_bench.config import load_scenario
from hmarl_bench.harness.cells import build_cells
from hmarl_bench.harness.spec import load_benchmark

MPC = "tuned_mpc_free"


def test_frontier_mpc_adds_the_milp_to_frontier_on_new_scenarios() -> None:
    spec, frontier = load_benchmark("frontier_mpc"), load_benchmark("frontier")
    assert set(spec.scenarios) <= set(NEW_SCENARIOS) and len(spec.scenarios) >= 4
    assert MPC in spec.baselines and MPC not in frontier.baselines
    assert set(spec.baselines) - {MPC} == set(frontier.baselines)
    assert spec.algos == frontier.algos
    for key in ("training_seeds", "tuning_seeds", "validation_seeds", "evaluation_seeds"):
        assert getattr(spec, key) == getattr(frontier, key), key
    for name in spec.scenarios:  # the MILP models one SKU
        assert load_scenario(name).n_skus == 1


def test_frontier_mpc_shares_every_other_cell_with_frontier() -> None:
    """--reuse-from results/frontier copies a cell only under the same id and fingerprint:
    every cell but the MILP's must have frontier's, or the run would retrain them."""
    frontier = {c.cell_id: c.fingerprint for c in build_cells(load_benchmark("frontier"))}
    cells = build_cells(load_benchmark("frontier_mpc"))
    own = [c.cell_id for c in cells if c.policy == MPC]
    assert len(own) == len(load_benchmark("frontier_mpc").scenarios)
    different = [
        c.cell_id for c in cells if c.policy != MPC and frontier.get(c.cell_id) != c.fingerprint
    ]
    assert not different
