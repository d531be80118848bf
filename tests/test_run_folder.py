"""One run, one folder: a second run into it is refused unless --force; --resume's checks."""

from __future__ import annotations

import json
import shutil

import pytest
from cli_helpers import run_fails

from hmarl_bench.harness.provenance import PACKAGE_DIR
from hmarl_bench.run import main
from hmarl_bench.run.folder import RUN_OUTPUTS, code_record, default_run_folder

TINY = [
    "--timesteps", "128", "--n-envs", "2", "--eval-episodes", "2", "--no-progress",
    "--hp", "n_steps=32", "--hp", "batch_size=64", "--hp", "n_epochs=1",
]  # fmt: skip


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "first"
    assert main([*TINY, "--out", str(out)]) == 0
    return out


def test_a_second_run_into_the_same_folder_is_refused(finished_run, capsys):
    before = {p.name: p.stat().st_mtime_ns for p in finished_run.iterdir()}
    err = run_fails([*TINY, "--seed", "1", "--out", str(finished_run)], capsys)
    assert "already holds files" in err and "--force" in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1
    assert {p.name: p.stat().st_mtime_ns for p in finished_run.iterdir()} == before


def test_force_replaces_the_run_files_and_keeps_others(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TINY, "--out", str(out)]) == 0
    (out / "checkpoints" / "ppo_999999_steps.zip").write_bytes(b"old")
    (out / "notes.txt").write_text("mine")
    assert main([*TINY, "--seed", "1", "--out", str(out), "--force"]) == 0
    assert not (out / "checkpoints" / "ppo_999999_steps.zip").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "config.json").read_text())["args"]["seed"] == 1
    assert "model.zip" in RUN_OUTPUTS and "notes.txt" not in RUN_OUTPUTS


def test_a_taken_default_folder_gets_a_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = default_run_folder("default-ppo-seed0")
    first.mkdir(parents=True)
    second = default_run_folder("default-ppo-seed0")
    assert second != first and second.name.startswith(first.name)


def test_resume_refuses_a_complete_run(finished_run, capsys):
    err = run_fails(["--resume", str(finished_run)], capsys)
    assert "is complete: there is nothing to resume" in err


def test_resume_refuses_options_that_contradict_the_run(finished_run, capsys, tmp_path):
    run = tmp_path / "interrupted"
    run.mkdir()
    config = json.loads((finished_run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "status": "interrupted"}))
    err = run_fails(["--resume", str(run), "--timesteps", "4096"], capsys)
    assert "--timesteps 4096 differs from its 128 (leave --timesteps out)" in err
    err = run_fails(["--resume", str(tmp_path / "nothing")], capsys)
    assert "has no config.json" in err
    assert "--force" in run_fails(["--resume", str(run), "--force"], capsys)


def test_the_code_record_follows_the_code_a_run_reaches(finished_run, tmp_path):
    config = json.loads((finished_run / "config.json").read_text())
    assert config["code"] == code_record()
    assert config["code"]["modules"] > 20
    copy = tmp_path / "hmarl_bench"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    same = code_record(copy)
    assert same == {"digest": config["code"]["digest"], "modules": config["code"]["modules"]}
    (copy / "benchmark.py").write_text((copy / "benchmark.py").read_text() + "\n# edit\n")
    assert code_record(copy)["digest"] == same["digest"]  # not reached by a run
    (copy / "reconciliation.py").write_text((copy / "reconciliation.py").read_text() + "\n# edit\n")
    assert code_record(copy)["digest"] != same["digest"]  # the twin's rewards


def test_resume_under_other_code_says_so_and_records_both(finished_run, capsys, tmp_path):
    run = tmp_path / "interrupted"
    run.mkdir()
    config = json.loads((finished_run / "config.json").read_text())
    old = {**config["code"], "digest": "0" * 16}
    (run / "config.json").write_text(json.dumps({**config, "status": "interrupted", "code": old}))
    assert main(["--resume", str(run)]) == 2  # no checkpoint: refused, not a silent restart
    assert "--restart" in capsys.readouterr().err
    assert main(["--resume", str(run), "--restart"]) == 0
    err = capsys.readouterr().err
    assert f"under other code than it started with (code digest {'0' * 16}, now " in err
    resumed = json.loads((run / "config.json").read_text())
    assert resumed["code"] == old and resumed["code_at_resume"] == code_record()


def test_the_git_commit_is_recorded_only_for_a_tracked_package(tmp_path, monkeypatch):
    import subprocess

    from hmarl_bench.run import folder as run_folder

    def git(*args: str) -> str:
        command = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
        return subprocess.run([*command, *args], check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    (tmp_path / "README").write_text("a checkout")
    git("add", "README")
    git("commit", "-q", "-m", "first")
    package = tmp_path / "venv" / "hmarl_bench"  # an installed copy the checkout does not track
    shutil.copytree(PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(run_folder, "PACKAGE_DIR", package)
    assert "git_commit" not in code_record()
    git("add", "venv")
    git("commit", "-q", "-m", "the package")
    record = code_record()
    assert record["git_commit"] == git("rev-parse", "HEAD").strip()
    assert record["git_dirty"] is False
    edited = package / "run" / "__main__.py"
    edited.write_text(edited.read_text() + "\n# edit\n")
    assert code_record()["git_dirty"] is True
    (tmp_path / "README").write_text("edited outside the package")
    git("checkout", "--", "venv")
    assert code_record()["git_dirty"] is False  # only the package's files count
