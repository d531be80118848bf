"""An ``argparse`` parser whose errors are one line.

argparse prints the whole usage block before an error; in a log the error then hides
among the options. :class:`OneLineParser` prints ``<prog>: error: <message> (see --help)``
on stderr and exits with status 2, as every command of the package does for bad input.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

__all__ = ["OneLineParser"]


class OneLineParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with one-line errors (module docstring)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        sys.exit(2)
