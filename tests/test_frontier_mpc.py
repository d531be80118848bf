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
    assert set(spec.scenarios) <= set(frontier.scenarios)
    assert len(set(spec.scenarios) & set(NEW_SCENARIOS)) >= 4
    assert set(frontier.scenarios) - set(NEW_SCENARIOS) <= set(spec.scenarios)  # the seed's six
    assert MPC in spec.baselines and MPC not in frontier.baselines
    assert set(spec.baselines) - {MPC} == set(frontier.baselines)
    assert spec.algos == frontier.algos
    for key in ("training_seeds", "tuning_seeds", "validation_seeds", "evaluation_seeds"):
        assert getattr(spec, key) == getattr(frontier, key), key
    for name in spec.scenarios:  # the MILP models one SKU
        assert load_scenario(name).n_skus == 1


def test_frontier_mpc_shares_its_cells_with_frontier_and_default() -> None:
    """--reuse-from results/frontier results/default copies a cell only under the same id and
    fingerprint: every cell but the MILP's must have frontier's, and the seed scenarios' MILP
    cells default's, or the run would train and solve them again."""
    frontier = {c.cell_id: c.fingerprint for c in build_cells(load_benchmark("frontier"))}
    default = {c.cell_id: c.fingerprint for c in build_cells(load_benchmark("default"))}
    spec = load_benchmark("frontier_mpc")
    cells = build_cells(spec)
    assert len([c for c in cells if c.policy == MPC]) == len(spec.scenarios)
    different = [
        c.cell_id for c in cells if c.policy != MPC and frontier.get(c.cell_id) != c.fingerprint
    ]
    assert not different
    seed_mpc = [c for c in cells if c.policy == MPC and c.scenario not in NEW_SCENARIOS]
    assert len(seed_mpc) == 6
    assert all(default.get(c.cell_id) == c.fingerprint for c in seed_mpc)
