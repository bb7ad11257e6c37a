"""Frame collection from the real PyBullet workcell (small: two short episodes at 32x32)."""

from __future__ import annotations

import numpy as np
import pytest

from v2p.encoders.dataset import DatasetError, collect_frames

v2p_sim = pytest.importorskip("v2p_sim")


def test_collect_frames_pairs_each_frame_with_the_simulator_state() -> None:
    data = collect_frames("default", episodes=2, seed=3, frame_size=32, cycles_per_episode=1)
    n = len(data.frames)
    assert data.frames.shape == (n, 32, 32, 3) and data.frames.dtype == np.uint8
    assert [e - s for s, e in data.episode_ranges()] == [int((data.episode == i).sum()) for i in (0, 1)]
    assert n > 40  # a cycle lasts seconds of sim time, ticked at 10 Hz
    t = data.targets
    assert set(np.unique(t["dish_held"])) == {0, 1}  # the dish is picked up and put down in every cycle
    assert set(np.unique(t["arm_phase"])) <= {0, 1, 2, 3} and 0 in t["arm_phase"] and 2 in t["arm_phase"]
    assert np.all((t["dish_dirt"] >= 0) & (t["dish_dirt"] <= 1))
    assert np.all((t["speed"] >= 0) & (t["speed"] <= 1)) and np.all((t["care"] >= 0) & (t["care"] <= 1))
    # The first frame of each episode is its decision point: arm idle.
    starts = [s for s, _ in data.episode_ranges()]
    assert np.all(t["arm_phase"][starts] == 0)
    assert data.frames.std() > 1.0  # an actual rendered scene, not a blank image


def test_collect_frames_is_reproducible_from_its_seed() -> None:
    a = collect_frames("default", episodes=2, seed=5, frame_size=32, cycles_per_episode=1)
    b = collect_frames("default", episodes=2, seed=5, frame_size=32, cycles_per_episode=1)
    assert np.array_equal(a.frames, b.frames)
    assert all(np.array_equal(a.targets[k], b.targets[k]) for k in a.targets)


def test_collect_frames_needs_two_episodes() -> None:
    with pytest.raises(DatasetError, match="--episodes must be >= 2"):
        collect_frames("default", episodes=1)
