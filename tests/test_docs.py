"""The documentation runs as written: every Python and shell block of README.md and docs/.

A fenced ``python`` block runs (a page's blocks in order, in one fresh process, in an empty
folder); a ``bash`` block runs line by line there. A block preceded by a
``<!-- skip: reason -->`` comment (an install, a benchmark that takes hours, a run that
rewrites committed results) does not run: its ``python -m hmarl_bench...`` commands have
their arguments parsed by the command's own parser (an option the command does not have
fails), and its ``pip install`` extras must exist in pyproject.toml. ``text`` blocks are
output and never run. The generated pages (docs/cli.md, the scenario table) must equal what
``python -m hmarl_bench.docs_cli`` gives, and the benchmark file's reference must list
exactly the keys the parser knows.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hmarl_bench import docs_cli
from hmarl_bench._toml import tomllib

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
SKIP = re.compile(r"<!--\s*skip:\s*(.+?)\s*-->\s*\Z")
RUNNABLE = {"python", "bash", "sh", "shell"}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    code: str
    skip: str | None  # the reason, when marked

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The page's fenced python and shell blocks (at the start of a line), with their skip
    marks."""
    text = page.read_text("utf-8")
    found = []
    for match in FENCE.finditer(text):
        lang = match.group(1)
        if lang not in RUNNABLE:
            continue
        before = text[: match.start()].rstrip()
        skip = SKIP.search(before)
        line = text[: match.start()].count("\n") + 1
        found.append(Block(page, line, lang, match.group(2), skip.group(1) if skip else None))
    return found


ALL = [b for page in PAGES for b in blocks(page)]


def commands(code: str) -> list[str]:
    """A shell block's commands: continuation lines joined, comments dropped, && split."""
    joined = code.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        out += [part.strip() for part in line.split("&&") if part.strip()]
    return out


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


def test_the_pages_have_blocks_and_the_convention_is_used():
    assert len(ALL) > 10
    assert any(b.skip for b in ALL) and any(not b.skip for b in ALL)


PYTHON_PAGES = sorted({b.page for b in ALL if b.lang == "python" and not b.skip})


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(page, tmp_path):
    code = "\n\n".join(b.code for b in blocks(page) if b.lang == "python" and not b.skip)
    script = tmp_path / "blocks.py"
    script.write_text("import torch\ntorch.set_num_threads(1)\n" + code, "utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{page.relative_to(ROOT)}: {done.stderr[-3000:]}"


SHELL = [b for b in ALL if b.lang != "python" and not b.skip]


@pytest.mark.slow
@pytest.mark.parametrize("block", SHELL, ids=lambda b: b.name)
def test_shell_blocks_run(block, tmp_path):
    for command in commands(block.code):
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=ROOT,  # as a user at the repository root
            env=_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{block.name}: {command}\n{done.stderr[-3000:]}"


SKIPPED_SHELL = [b for b in ALL if b.lang != "python" and b.skip]
EXTRAS = set(
    tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["optional-dependencies"]
)


@functools.cache
def _ray_start_flags() -> frozenset[str]:
    """The options ``ray start --help`` lists (the Ray extra's CLI)."""
    ray = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    if not Path(ray).is_file():
        pytest.skip("the ray extra is not installed")
    done = subprocess.run([ray, "start", "--help"], capture_output=True, text=True, timeout=120)
    return frozenset(re.findall(r"--[\w-]+", done.stdout))


@pytest.mark.parametrize("block", SKIPPED_SHELL, ids=lambda b: b.name)
def test_skipped_shell_blocks_parse(block):
    checked = 0
    for command in commands(block.code):
        words = shlex.split(command)
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # VAR=value command
            words = words[1:]
        if words[:2] == ["ray", "start"]:
            flags = {w.split("=")[0] for w in words[2:] if w.startswith("--")}
            unknown = flags - _ray_start_flags()
            assert not unknown, f"{block.name}: ray start has no {sorted(unknown)}"
            checked += 1
        elif words[:2] == ["python", "-m"] and words[2] in docs_cli.COMMANDS:
            parser = docs_cli.parser_of(words[2])
            try:
                parser.parse_args(words[3:])
            except SystemExit as err:
                pytest.fail(f"{block.name}: {command!r} does not parse (exit {err.code})")
            checked += 1
        elif words[:2] == ["pip", "install"]:
            for word in words[2:]:
                extras = re.search(r"\[([\w,]+)\]", word)
                if extras:
                    unknown = set(extras.group(1).split(",")) - EXTRAS
                    assert not unknown, f"{block.name}: no such extra {unknown}"
            checked += 1
    assert checked, f"{block.name}: a skipped block with nothing to check"


def test_generated_pages_are_what_the_code_gives():
    for path, text in docs_cli.pages(ROOT / "docs").items():
        if path.name == "cli.md":
            made_with = re.search(r"made with Python (\d+\.\d+)", path.read_text("utf-8"))
            if made_with and made_with.group(1) != docs_cli.python_version():
                continue  # argparse's layout differs between versions
        assert path.read_text("utf-8") == text, (
            f"{path.relative_to(ROOT)} is not what the code gives: run "
            "python -m hmarl_bench.docs_cli"
        )


def test_every_command_is_in_the_cli_reference():
    text = (ROOT / "docs" / "cli.md").read_text("utf-8")
    for module in docs_cli.COMMANDS:
        assert f"## `python -m {module}`" in text


def test_the_benchmark_reference_lists_every_key_the_parser_knows():
    from hmarl_bench.harness import algo_spec, spec

    text = (ROOT / "docs" / "benchmarks.md").read_text("utf-8")
    section = text.split("## The benchmark file", 1)[1].split("## The output files", 1)[0]
    documented = set(re.findall(r"`\[?(\w+)\]?`", section))
    for keys in (
        spec._TOP_KEYS,
        algo_spec._ALGO_KEYS,
        spec._EXTERNAL_KEYS,
        spec._GENERALIZATION_KEYS,
        spec._CLAIRVOYANT_KEYS,
        spec._STAT_KEYS,
        spec._TUNING_KEYS,
    ):
        assert keys <= documented, sorted(keys - documented)


def test_the_readme_is_a_short_front_page():
    text = (ROOT / "README.md").read_text("utf-8")
    assert len(text.splitlines()) <= 300
    for word in ("DESIGN.md", "HMARL_SUMMARY", "issue", "../shared"):
        assert word not in text, word
    for link in re.findall(r"\]\(([^)#\s]+)", text):
        if "://" not in link:
            assert (ROOT / link).exists(), link


def test_the_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
    install = next(line for line in ci if line.startswith("pip install"))
    test = next(line for line in ci if line.startswith("python -m pytest"))
    readme = commands(blocks(ROOT / "README.md")[0].code)
    assert install.replace("--quiet ", "") in readme
    assert test in readme


def test_no_page_mentions_how_the_project_was_organised():
    for page in PAGES:
        text = page.read_text("utf-8")
        for word in ("DESIGN.md", "HMARL_SUMMARY", "../shared"):
            assert word not in text, f"{page.relative_to(ROOT)}: {word}"
        assert not re.search(r"\bthe lead\b(?!\s+times?)", text), f"{page.relative_to(ROOT)}: lead"
        assert not re.search(r"\bissues?\b", text), f"{page.relative_to(ROOT)}: issue"
