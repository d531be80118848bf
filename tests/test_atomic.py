"""Atomic writes: a full disk leaves earlier files intact and is one line on the command
line; run files get the umask's mode; outputs are checked before any work."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from hmarl_bench import _atomic
from hmarl_bench._atomic import WriteError, save_atomic, write_atomic


def _full_disk(monkeypatch) -> None:
    def write_all(out, data) -> None:
        out.write(data[: len(data) // 2])  # half of it, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_atomic, "_write_all", write_all)


def test_a_full_disk_leaves_the_earlier_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "cells" / "a.json"
    write_atomic(path, b'{"old": 1}')
    _full_disk(monkeypatch)
    with pytest.raises(WriteError, match=f"^cannot write {path}: No space left on device$"):
        write_atomic(path, b'{"new": 2, "padding": "' + b"x" * 1000 + b'"}')
    assert path.read_bytes() == b'{"old": 1}'
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]


def test_a_library_writer_failing_half_way_leaves_the_earlier_file(tmp_path):
    path = tmp_path / "model.zip"
    path.write_bytes(b"old model")

    def save(target: Path) -> None:
        assert target.suffix == ".zip" and target.parent == tmp_path  # same folder, suffix
        target.write_bytes(b"half a mod")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(WriteError, match="cannot write .*model.zip: No space left on device"):
        save_atomic(path, save)
    assert path.read_bytes() == b"old model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.zip"]


def test_a_checkpoint_is_saved_atomically(tmp_path):
    from hmarl_bench.learn.checkpoints import RolloutCheckpoints

    class Model:
        num_timesteps = 256

        def save(self, target) -> None:
            Path(target).write_bytes(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def get_vec_normalize_env(self):
            return None

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    (folder / "ppo_128_steps.zip").write_bytes(b"good checkpoint")
    saver = RolloutCheckpoints(folder, "ppo", 128, None)
    saver.model, saver.steps_done = Model(), 256
    with pytest.raises(WriteError, match="ppo_256_steps.zip: No space left on device"):
        saver.save()
    assert sorted(p.name for p in folder.iterdir()) == ["ppo_128_steps.zip"]


def test_benchmark_on_a_full_disk_is_one_line_and_keeps_stored_cells(tmp_path, monkeypatch, capsys):
    from hmarl_bench import benchmark

    config = tmp_path / "disk.toml"
    config.write_text(
        'name = "disk"\nscenarios = ["default"]\nbaselines = ["seed_ss_actions", "random"]\n'
        "tuning_seeds = [100]\nevaluation_seeds = [10000, 10001]\n"
        "[clairvoyant]\nenabled = false\n[statistics]\nn_resamples = 100\n",
        encoding="utf-8",
    )
    args = [str(config), "--out", str(tmp_path), "--no-figures", "--no-progress"]
    assert benchmark.main(args) == 0
    cells = tmp_path / "disk" / "cells"
    before = {p.name: p.read_bytes() for p in cells.iterdir()}
    capsys.readouterr()
    _full_disk(monkeypatch)
    assert benchmark.main([*args, "--recompute"]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: cannot write ") and "No space left on device" in lines[0]
    assert {p.name: p.read_bytes() for p in cells.iterdir()} == before


def test_run_config_is_readable_as_the_umask_allows(tmp_path):
    from hmarl_bench.run.folder import write_config

    old = os.umask(0o022)
    try:
        write_config(tmp_path, {"args": {}})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o644


def test_information_checks_the_readme_before_any_work(tmp_path, monkeypatch, capsys):
    from hmarl_bench import information

    def no_work(*args, **kwargs):
        raise AssertionError("computed before checking the outputs")

    monkeypatch.setattr(information, "regime_value", no_work)
    missing = tmp_path / "MISSING.md"
    argv = ["frontier", "--out", str(tmp_path / "out"), "--readme", str(missing)]
    with pytest.raises(SystemExit) as exit_info:
        information.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and f"--readme: {missing} not found" in err
    no_block = tmp_path / "README.md"
    no_block.write_text("no markers here\n")
    with pytest.raises(SystemExit):
        information.main([*argv[:-1], str(no_block)])
    assert "<!-- information:frontier -->" in capsys.readouterr().err
