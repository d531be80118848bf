"""``python -m hmarl_bench.docs_cli``: the documentation pages made from the code.

Two parts of the documentation would go stale if typed by hand, so this command writes them:

- ``docs/cli.md``: the ``--help`` of every command, from the commands' own argument parsers
  (:data:`COMMANDS`), at a fixed width of 100 columns;
- the scenario table of ``docs/scenarios.md``, between ``<!-- docs:scenarios -->`` and
  ``<!-- /docs:scenarios -->``, from the shipped ``experiments/scenarios/*.toml`` files
  (loaded and validated as any run loads them).

``--check`` writes nothing and exits with status 1, naming the pages that differ, when the
committed pages are not what the code gives (the test suite runs it). argparse's help layout
changes between Python versions, so the CLI page records the Python version it was made with
and ``--check`` compares it only under that version (it says so otherwise).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["COMMANDS", "SCENARIOS_KEY", "cli_page", "main", "parser_of", "scenario_table"]

#: Every command of the package: ``python -m MODULE`` -> ``"module:function"`` building its
#: argument parser (a new command adds its line here, and ``docs/cli.md`` gets its section).
COMMANDS: dict[str, str] = {
    "hmarl_bench.run": "hmarl_bench.run.args:build_parser",
    "hmarl_bench.benchmark": "hmarl_bench.benchmark:_parser",
    "hmarl_bench.information": "hmarl_bench.information:_parser",
    "hmarl_bench.speed": "hmarl_bench.speed.__main__:_parser",
    "hmarl_bench.speed.mpc": "hmarl_bench.speed.mpc:_parser",
    "hmarl_bench.speed.split": "hmarl_bench.speed.split:_parser",
    "hmarl_bench.learn.search": "hmarl_bench.learn.search:_parser",
    "hmarl_bench.docs_cli": "hmarl_bench.docs_cli:_parser",
}
#: The help's width: fixed, so the page does not depend on the terminal that made it.
WIDTH = 100
#: The markers around the generated scenario table in ``docs/scenarios.md``.
SCENARIOS_KEY = "docs:scenarios"
ROOT = Path(__file__).resolve().parents[1]


def parser_of(module: str) -> argparse.ArgumentParser:
    """The argument parser of ``python -m MODULE`` (a key of :data:`COMMANDS`)."""
    target, _, attr = COMMANDS[module].partition(":")
    build: Callable[[], argparse.ArgumentParser] = getattr(importlib.import_module(target), attr)
    return build()


def _help(module: str) -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH + 2)  # argparse wraps at COLUMNS - 2
    try:
        return parser_of(module).format_help()
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous


def python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _made_with(path: Path) -> str | None:
    """The Python version a generated CLI page records (None for other pages)."""
    if path.name != "cli.md" or not path.is_file():
        return None
    match = re.search(r"made with Python (\d+\.\d+)", path.read_text("utf-8"))
    return match.group(1) if match else None


def cli_page() -> str:
    """``docs/cli.md``: one section per command with its ``--help``."""
    lines = [
        "# Command-line reference",
        "",
        "Every command's `--help`, generated from its argument parser by "
        "`python -m hmarl_bench.docs_cli` (made with Python "
        f"{python_version()}; argparse's layout varies a little between versions). "
        "Each command checks its inputs before it does any work: a bad value is one line on "
        "stderr and exit status 2.",
        "",
    ]
    for module in COMMANDS:
        lines += [f"## `python -m {module}`", "", "```text", _help(module).rstrip(), "```", ""]
    return "\n".join(lines)


def _days(value: float) -> str:
    return f"{value:g}"


def scenario_table() -> str:
    """A row per shipped scenario: its description and the facts that set it apart."""
    from hmarl_bench.config import list_scenarios, load_scenario

    titles = [
        "scenario",
        "description",
        "stores",
        "SKUs",
        "days",
        "lead time to a store / from the supplier",
        "hidden demand regimes",
        "supplier outages (mean up / down days)",
    ]
    lines = ["| " + " | ".join(titles) + " |", "|:---|:---|---:|---:|---:|---:|:---|:---|"]
    for name in list_scenarios():
        s = load_scenario(name)
        regimes = s.demand.regimes
        regime_text = (
            " / ".join(f"x{m:g}" for m in regimes.multipliers) if regimes.multipliers else "–"
        )
        outage = s.supplier.disruption
        outage_text = (
            f"{_days(outage.mean_up_days)} / {_days(outage.mean_down_days)}"
            if outage.mean_down_days > 0
            else "–"
        )
        cells = [
            f"`{name}`",
            s.description,
            f"{len(s.stores):,}",
            str(max(len(s.skus), 1)),
            str(s.episode_days),
            f"{s.warehouse.lead_time} / {s.supplier.lead_time}",
            regime_text,
            outage_text,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _with_block(text: str, key: str, block: str, page: Path) -> str:
    start, end = f"<!-- {key} -->", f"<!-- /{key} -->"
    if start not in text or end not in text:
        raise SystemExit(f"error: {page} has no '{start}' ... '{end}' block")
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{block}{end}{rest.split(end, 1)[1]}"


def pages(docs: Path) -> dict[Path, str]:
    """Each generated page's path -> the text it should hold."""
    scenarios = docs / "scenarios.md"
    current = scenarios.read_text("utf-8") if scenarios.is_file() else ""
    return {
        docs / "cli.md": cli_page(),
        scenarios: _with_block(current, SCENARIOS_KEY, scenario_table(), scenarios),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hmarl_bench.docs_cli",
        description=(
            "Write the documentation pages made from the code: docs/cli.md (every command's "
            "--help) and the scenario table of docs/scenarios.md (from experiments/scenarios)."
        ),
    )
    parser.add_argument(
        "--docs", type=Path, default=ROOT / "docs", help="the docs folder (default: docs/)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming every page that differs from what the code gives",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.docs.is_dir():
        print(f"error: --docs: {args.docs} is not a folder", file=sys.stderr)
        return 2
    stale = []
    for path, text in pages(args.docs).items():
        if path.is_file() and path.read_text("utf-8") == text:
            continue
        made_with = _made_with(path)
        if args.check and made_with not in (None, python_version()):
            print(f"{path}: made with Python {made_with}, not compared under {python_version()}")
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, "utf-8")
            print(f"wrote {path}")
    if args.check and stale:
        names = ", ".join(str(p) for p in stale)
        print(
            f"{names}: not what the code gives; run python -m hmarl_bench.docs_cli", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
