"""An ``argparse`` parser whose errors are one line.

argparse prints the whole usage block before an error; in a log the error then hides
among the options. :class:`OneLineParser` prints ``<prog>: error: <message> (see --help)``
on stderr and exits with status 2, as every command of the package does for bad input.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from hmarl_bench._atomic import WriteError

__all__ = ["OneLineParser", "add_readme_argument", "check_outputs", "main_writing_atomically"]


class OneLineParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with one-line errors (module docstring)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)


def add_readme_argument(parser: argparse.ArgumentParser, key: str, page: str = "") -> None:
    """The ``--readme PAGE`` option of a command that copies its table into a Markdown page
    between ``<!-- KEY -->`` and ``<!-- /KEY -->`` (``page``: the usual page, for the help)."""
    where = f" ({page})" if page else ""
    parser.add_argument(
        "--readme",
        type=Path,
        default=None,
        metavar="PAGE",
        help=f"also copy the table into this Markdown file{where} between <!-- {key} --> "
        f"and <!-- /{key} -->",
    )


def check_outputs(
    parser: argparse.ArgumentParser, out: Path, readme: Path | None, key: str
) -> None:
    """Refuse, as ``parser`` errors, an ``--out`` folder that cannot be written and a
    ``--readme`` without the ``<!-- KEY -->`` ... ``<!-- /KEY -->`` block: before the minutes
    of work whose results would go there, not after."""
    if readme is not None:
        if not readme.is_file():
            parser.error(f"--readme: {readme} not found")
        try:
            text = readme.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            parser.error(f"--readme: cannot read {readme}: {err}")
        if f"<!-- {key} -->" not in text or f"<!-- /{key} -->" not in text:
            parser.error(f"--readme: {readme} has no <!-- {key} --> block")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-check-"):
            pass
    except OSError as err:
        parser.error(f"--out: cannot write to {out}: {err}")


def main_writing_atomically(
    run: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None
) -> int:
    """A command line ``run(argv)`` whose failed write (a full disk) is one ``error:`` line
    and status 1 (every output is written atomically: earlier files stay intact)."""
    try:
        return run(argv)
    except WriteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
