"""render_mode="rgb_array": a picture of the day, for make_vec_env and the video recorders."""

from __future__ import annotations

import subprocess
import sys

import gymnasium
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecVideoRecorder

import hmarl_bench
from hmarl_bench import HMARLEnvironment, SingleAgentWrapper
from hmarl_bench.envs.render import FRAME_SHAPE, _columns

STORE = (0, 114, 178)  # the stores' on-hand colour in render.py
SOLD, LOST = (0, 158, 115), (213, 94, 0)


def _has(frame: np.ndarray, color: tuple[int, int, int]) -> int:
    return int((frame == np.array(color, dtype=np.uint8)).all(axis=-1).sum())


@pytest.mark.parametrize("name", hmarl_bench.list_scenarios())
def test_rgb_array_draws_the_day(name: str) -> None:
    env = HMARLEnvironment(name, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert first.shape == FRAME_SHAPE and first.dtype == np.uint8
    assert _has(first, STORE) > 0 and _has(first, SOLD) == 0  # stock, no flows before day 0
    env.step(env.rule_actions())
    second = env.render()
    assert second.shape == FRAME_SHAPE and _has(second, SOLD) > 0
    assert not np.array_equal(first, second)
    second[:] = 0  # the caller's copy: the next frame is unaffected
    assert env.render().any()


def test_the_picture_follows_the_numbers() -> None:
    """More stock draws more stock pixels; lost sales draw red; the bars scale to capacity."""
    env = HMARLEnvironment("default", render_mode="rgb_array")
    env.reset(seed=0)
    state = env.twin_state
    before = _has(env.render(), STORE)
    state.store_on_hand[0, 0] = env.scenario.stores[0].capacity  # store_1 full
    full = _has(env.render(), STORE)
    assert full > before
    state.store_on_hand[0, :] = 0  # empty shelves: the day's demand is all lost
    env.step({**env.rule_actions(), "store_1": 0, "store_2": 0})
    assert env.last_report.stores.lost_sales[0].sum() > 0
    assert _has(env.render(), LOST) > 0


def test_columns_average_wide_chains_and_gap_narrow_ones() -> None:
    values, visible = _columns(np.array([0.2, 0.8]), 100)
    assert values[10] == 0.2 and values[90] == 0.8
    assert not visible[0] and visible[25] and not visible[50]  # gaps between wide bars
    wide, shown = _columns(np.arange(1000, dtype=float), 100)
    assert shown.all() and wide[0] == pytest.approx(np.arange(10).mean())


def test_render_modes_follow_gymnasium() -> None:
    with pytest.raises(ValueError, match="render_mode must be None or one of"):
        HMARLEnvironment("default", render_mode="rgb_array_list")
    assert "rgb_array" in HMARLEnvironment.metadata["render_modes"]
    assert HMARLEnvironment.metadata["render_fps"] > 0
    with pytest.warns(UserWarning, match="without specifying any render mode"):
        env = HMARLEnvironment("default")
        env.reset(seed=0)
        assert env.render() is None
    ansi = gymnasium.make("hmarl_bench/Store-v0", render_mode="ansi")
    ansi.reset(seed=0)
    assert "store_1" in ansi.render()
    frames = gymnasium.make("hmarl_bench/Store-v0", render_mode="rgb_array_list")
    frames.reset(seed=0)
    frames.step(0)
    rendered = frames.render()  # Gymnasium's RenderCollection over rgb_array
    assert len(rendered) == 2 and rendered[0].shape == FRAME_SHAPE


#: A user's script: SubprocVecEnv's workers (forkserver) import the script, and with it
#: hmarl_bench, which registers the ids.
SCRIPT = """
import numpy as np
import hmarl_bench
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import SubprocVecEnv

if __name__ == "__main__":
    venv = make_vec_env("hmarl_bench/Store-v0", n_envs=4, seed=0, vec_env_cls=SubprocVecEnv)
    venv.reset()
    obs, rewards, dones, infos = venv.step(np.zeros(4, dtype=np.int64))
    print(obs.shape, [image.shape for image in venv.get_images()])
    venv.close()
"""


@pytest.mark.slow  # four worker processes importing SB3 and torch
def test_sb3_make_vec_env_subproc_from_a_script(tmp_path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(4, 7) [(480, 640, 3), (480, 640, 3), (480, 640, 3), (480, 640, 3)]" in done.stdout


@pytest.mark.parametrize(
    ("env_id", "vec_env_cls", "n_envs"),
    [
        ("hmarl_bench/Store-v0", DummyVecEnv, 4),
        # a worker that has not imported hmarl_bench: "module:id" imports it (Gymnasium)
        ("hmarl_bench:hmarl_bench/Store-v0", SubprocVecEnv, 1),
    ],
)
def test_sb3_make_vec_env_with_its_default_rgb_array(
    env_id: str, vec_env_cls: type, n_envs: int
) -> None:
    venv = make_vec_env(env_id, n_envs=n_envs, seed=0, vec_env_cls=vec_env_cls)
    try:
        obs = venv.reset()
        assert obs.shape == (n_envs, 7)
        assert venv.render_mode == "rgb_array"
        images = venv.get_images()
        assert len(images) == n_envs and all(image.shape == FRAME_SHAPE for image in images)
        obs, rewards, dones, infos = venv.step(np.zeros(n_envs, dtype=np.int64))
        assert obs.shape == (n_envs, 7) and rewards.shape == (n_envs,) and not dones.any()
    finally:
        venv.close()


def test_gymnasium_record_video(tmp_path) -> None:
    pytest.importorskip("moviepy", reason="RecordVideo needs moviepy (the interop extra)")
    env = gymnasium.make("hmarl_bench/Store-v0", render_mode="rgb_array")
    env = gymnasium.wrappers.RecordVideo(env, str(tmp_path), episode_trigger=lambda e: e == 0)
    env.reset(seed=0)
    for _ in range(12):
        env.step(env.action_space.sample())
    env.close()
    videos = list(tmp_path.glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000


def test_sb3_vec_video_recorder(tmp_path) -> None:
    pytest.importorskip("moviepy", reason="VecVideoRecorder needs moviepy (the interop extra)")
    venv = make_vec_env("hmarl_bench/Warehouse-v0", n_envs=2, seed=0)
    venv = VecVideoRecorder(
        venv, str(tmp_path), record_video_trigger=lambda step: step == 0, video_length=10
    )
    venv.reset()
    for _ in range(12):
        venv.step(np.zeros(2, dtype=np.int64))
    venv.close()
    videos = list(tmp_path.glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000


def test_wrapper_renders_its_env() -> None:
    wrapper = SingleAgentWrapper("multi_sku", agent="warehouse_1", render_mode="rgb_array")
    wrapper.reset(seed=1)
    assert wrapper.render().shape == FRAME_SHAPE
