"""The main job's encoder (v2p.encoders.task_encoder): decision frames labelled with what the decision needs (the
next dish's type, the soil its tint shows, its stack offset), saved and loaded with their targets, and a trained
encoder cached by sites' configurations, budget, seed and code."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from v2p.encoders import load_encoder
from v2p.encoders.dataset import FrameDataset
from v2p.encoders.task_encoder import (DECISION_TARGETS, TaskEncoderBudget, cache_key, collect_decision_frames,
                                       train_task_encoder)
from v2p.task.dishwashing import DISH_TYPES

v2p_sim = pytest.importorskip("v2p_sim")

TINY = TaskEncoderBudget(shifts_per_site=2, views=1, steps=20, batch=4, frame_size=32, width=8, threads=1)


def test_decision_frames_are_labelled_with_the_next_dishs_type_soil_and_offset(tmp_path):
    data = collect_decision_frames(["default", "glass_bar"], 1, seed=3, frame_size=32, views=2)
    assert [t.name for t in data.aux] == ["dish_type", "dish_soil_shown", "dish_offset_cm"]
    assert data.frames.shape[1:] == (32, 32, 3) and len(data.episode_ranges()) == 2
    for s, e in data.episode_ranges():
        assert (e - s) % 2 == 0  # two dishes shown at each decision instant
    types = data.targets["dish_type"]
    assert types.dtype == np.int64 and set(types) <= set(range(len(DISH_TYPES)))
    assert len(set(types)) >= 2  # the glass bar's glasses and the default kitchen's plates
    soil = data.targets["dish_soil_shown"]
    assert np.all((soil >= 0) & (soil <= 1)) and soil.std() > 0.05
    assert np.all(data.targets["dish_offset_cm"] >= 0)

    # each label is the camera field of the state at that instant: replay the first shift's first instant
    cell = v2p_sim.Workcell("default", seed=0, render_size=32)
    try:
        rng = np.random.default_rng(3)
        cell.reset(int(rng.integers(2**31 - 1)))
        np.testing.assert_array_equal(cell.render_rgb(32), data.frames[0])
        assert types[0] == DISH_TYPES.index(cell.in_play.dish.kind)
        assert soil[0] == pytest.approx(min(1.0, 1.5 * round(cell.in_play.dish.dirt, 2)), abs=1e-6)
    finally:
        cell.close()

    data.save(tmp_path / "frames.npz")
    again = FrameDataset.load(tmp_path / "frames.npz")
    assert again.aux == DECISION_TARGETS and again.meta["views"] == 2
    np.testing.assert_array_equal(again.targets["dish_type"], types)


def test_a_second_run_with_the_same_inputs_loads_the_cached_encoder(tmp_path, monkeypatch):
    import v2p.encoders.task_encoder as te

    path, metrics = train_task_encoder(["default"], 0, tmp_path, TINY)
    assert not metrics["cached"] and path.is_file() and load_encoder(path).clip_len == TINY.clip_len
    assert set(metrics["targets"]) == {t.name for t in DECISION_TARGETS} and metrics["held_out_shifts"] == 1
    assert "accuracy" in metrics["targets"]["dish_type"] and metrics["frames"] > 0

    def no_rendering(*args, **kwargs):
        raise AssertionError("a cached encoder was rendered again")

    monkeypatch.setattr(te, "collect_decision_frames", no_rendering)
    again, cached = train_task_encoder(["default"], 0, tmp_path, TINY)
    assert again == path and cached["cached"] and cached["targets"] == metrics["targets"]
    # anything the result depends on is a new key: the seed, the budget, a site's configuration
    assert cache_key(["default"], 1, TINY) != cache_key(["default"], 0, TINY)
    assert cache_key(["default"], 0, replace(TINY, steps=21)) != cache_key(["default"], 0, TINY)
    site = tmp_path / "kitchen.yaml"
    default = Path(__file__).resolve().parents[2] / "config" / "sites" / "default.yaml"
    site.write_text(default.read_text().replace("pose_noise_m: 0.008", "pose_noise_m: 0.009"))
    assert cache_key([str(site)], 0, TINY) != cache_key(["default"], 0, TINY)


@pytest.mark.slow  # about a minute on 2 cores
def test_the_default_budget_reads_the_dish_type_and_its_soil_from_held_out_frames(tmp_path):
    _, metrics = train_task_encoder(["default", "customer_bistro"], 0, tmp_path)
    targets = metrics["targets"]
    assert metrics["held_out_shifts"] >= 2
    assert targets["dish_type"]["accuracy"] >= 0.95 and targets["dish_soil_shown"]["r2"] >= 0.9, targets
