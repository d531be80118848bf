"""The README's result tables are the benchmark's own output, copied by the benchmark CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hmarl_bench import benchmark
from hmarl_bench.harness.spec import BenchmarkError

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- benchmark:(\w+):headline -->\n(.*?)<!-- /benchmark:\1:headline -->", re.S)


def test_readme_tables_equal_the_committed_results():
    blocks = BLOCK.findall((ROOT / "README.md").read_text("utf-8"))
    for name, block in blocks:
        assert block == benchmark.readme_block(ROOT / "results" / name), (
            f"README's '{name}' table differs from results/{name}/tables/headline.md; run "
            f"python -m hmarl_bench.benchmark {name} --only-tables --readme README.md"
        )


def _results(tmp_path: Path, table: str) -> Path:
    root = tmp_path / "results" / "demo"
    (root / "tables").mkdir(parents=True)
    (root / "tables" / "headline.md").write_text(f"# Benchmark 'demo'\n\n{table}\n\nNote.\n")
    return root


def test_sync_readme_replaces_only_the_marked_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- benchmark:demo:headline -->\nold\n<!-- /benchmark:demo:headline -->\nend\n"
    )
    root = _results(tmp_path, "| a | b |")
    assert benchmark.sync_readme(readme, "demo", benchmark.readme_block(root))
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("end\n") and "old" not in text
    assert "| a | b |\n\nNote.\n<!-- /benchmark" in text and "# Benchmark" not in text
    assert not benchmark.sync_readme(readme, "demo", benchmark.readme_block(root))


def test_sync_readme_without_markers_is_a_clear_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    with pytest.raises(BenchmarkError, match="benchmark:demo:headline"):
        benchmark.sync_readme(readme, "demo", "x\n")
