"""The public API of DESIGN.md's interface section."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hmarl_bench


def test_every_public_name_resolves():
    for name in hmarl_bench.__all__:
        assert getattr(hmarl_bench, name) is not None, name
    from hmarl_bench.envs.vec import SharedPolicyVecEnv

    assert hmarl_bench.SharedPolicyVecEnv is SharedPolicyVecEnv


def test_importing_the_package_does_not_import_the_learners():
    code = "import sys, hmarl_bench; print('stable_baselines3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="NoSuchThing"):
        hmarl_bench.NoSuchThing  # noqa: B018


def test_missing_dependency_says_how_to_install():
    code = "import sys; sys.modules['gymnasium'] = None; import hmarl_bench"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0
    assert "hmarl_bench needs 'gymnasium'" in out.stderr and "pip install" in out.stderr
