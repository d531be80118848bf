"""Build step that puts ``experiments/`` into the wheel (everything else is in pyproject.toml).

Scenarios, hyperparameters, benchmark configs and the rl-zoo3 settings live in
``experiments/`` at the project's root, outside the package, where setuptools' package data
cannot reach. This step copies them into the built package as ``hmarl_bench/_experiments``,
which :func:`hmarl_bench.locations.experiments_dir` reads when no checkout is beside the
package. An editable install skips the copy: it reads the checkout's ``experiments/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: (folder under experiments/, file pattern) shipped with the package.
SHIPPED = (
    ("scenarios", "*.toml"),
    ("hyperparams", "*.toml"),
    ("benchmarks", "*.toml"),
    ("rl_zoo3", "*.yml"),
)


class BuildPyWithExperiments(build_py):
    """``build_py`` that also copies the shipped ``experiments/`` files into the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "hmarl_bench" / "_experiments"
        if target.exists():
            shutil.rmtree(target)
        copied = 0
        for folder, pattern in SHIPPED:
            for path in sorted((ROOT / "experiments" / folder).glob(pattern)):
                (target / folder).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target / folder / path.name)
                copied += 1
        if not copied:
            raise RuntimeError(f"no experiment files found under {ROOT / 'experiments'}")


setup(cmdclass={"build_py": BuildPyWithExperiments})
