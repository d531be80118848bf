"""The static import graph: no import circles, and the code each kind of cell runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from hmarl_bench.harness import cells, provenance, runners
from hmarl_bench.harness.provenance import find_cycles, import_graph, module_closure


def test_the_package_has_no_import_circles():
    """Module-level and function-local imports both: each module sits at one level."""
    cycles = find_cycles(import_graph())
    assert cycles == [], "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("b_text", "circle"),
    [
        ("from pkg import a\n", True),  # module level
        ("def f():\n    from pkg.a import x\n    return x\n", True),  # inside a function
        ("def f():\n    from . import a\n", True),  # relative
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n", False),
        ("import os\n", False),
    ],
)
def test_find_cycles_sees_local_and_relative_imports(tmp_path, b_text, circle):
    root = _package(tmp_path, {"a.py": "from pkg import b\nx = 1\n", "b.py": b_text})
    found = find_cycles(import_graph(root))
    assert (found == [["pkg.a", "pkg.b", "pkg.a"]]) is circle


def test_a_function_root_follows_only_what_that_function_imports(tmp_path):
    root = _package(
        tmp_path,
        {
            "run.py": "import pkg.base\n"
            "def one():\n    from pkg import heavy\n"
            "def two():\n    return helper()\n"
            "def helper():\n    import pkg.light\n",
            "base.py": "",
            "heavy.py": "",
            "light.py": "",
        },
    )
    assert module_closure(["pkg.run:one"], root) == ("pkg.base", "pkg.heavy", "pkg.run")
    assert module_closure(["pkg.run:two"], root) == ("pkg.base", "pkg.light", "pkg.run")
    assert "pkg.heavy" in module_closure(["pkg.run"], root)


def test_every_cell_kind_has_a_root_at_its_runner():
    assert set(cells.RUNNER_ROOTS) == set(runners.RUNNERS)
    for kind, roots in cells.RUNNER_ROOTS.items():
        runner = runners.RUNNERS[kind]
        assert f"{runner.__module__}:{runner.__name__}" in roots


def test_each_kind_hashes_the_modules_it_runs_and_not_the_reports():
    learner, baseline, bound, external = (
        set(cells.code_modules(k))
        for k in (cells.LEARNER, cells.BASELINE, cells.CLAIRVOYANT, cells.EXTERNAL)
    )
    for modules in (learner, baseline, bound, external):
        assert {"hmarl_bench.twin.dynamics", "hmarl_bench.reconciliation"} <= modules
        reports = {"hmarl_bench.harness.plots", "hmarl_bench.harness.tables"}
        reports |= {"hmarl_bench.harness.readme", "hmarl_bench.benchmark", "hmarl_bench.run"}
        assert not modules & reports
    # the runner imports the learner by name (learn/registry.py): its module is a root of
    # the cell's own (cells.learner_modules), not of the runner's closure
    assert "hmarl_bench.learn.registry" in learner and "hmarl_bench.learn.train" not in learner
    stores = set(cells.learner_modules("hmarl_bench.learn.store_learner"))
    assert {"hmarl_bench.learn.train", "hmarl_bench.envs.vec"} <= stores
    assert "hmarl_bench.learn.residual" not in stores
    assert not {"hmarl_bench.learn.train", "hmarl_bench.learn.registry"} & (baseline | bound)
    assert "hmarl_bench.harness.clairvoyant" in bound and "hmarl_bench.baselines" in baseline
    assert "hmarl_bench.harness.external" in external  # the adapter of brought policies
    assert "hmarl_bench.learn.train" not in external and "hmarl_bench.baselines" not in external


def test_library_versions_name_python_and_the_numerical_libraries():
    versions = provenance.library_versions()
    assert set(versions) == {"python", *provenance.FINGERPRINT_LIBRARIES}
    assert versions["python"].count(".") == 1
