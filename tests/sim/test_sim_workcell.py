"""The Workcell: determinism, seeds, action checks, the tick clock, observations and the camera."""

from __future__ import annotations

import math

import numpy as np
import pytest

from v2p.task.dishwashing import STATE
from v2p_sim import Workcell

ACTIONS = [(0.7, 0.9), (1.0, 0.0), (0.4, 0.6)]


def _events(wc: Workcell) -> list[tuple]:
    out = []
    for speed, care in ACTIONS:
        result = wc.run_cycle(speed, care)
        out += [(e.kind, round(e.sim_time_s, 9), e.dish_index, e.dish_type) for e in result.events]
    return out


def test_same_seed_same_events_across_clients_and_resets() -> None:
    a, b = Workcell("default", seed=5), Workcell("default", seed=5)  # two clients in one process
    try:
        first = _events(a)
        assert first == _events(b)
        a.reset(5)  # a reset replays the shift exactly, whatever ran before
        assert _events(a) == first
    finally:
        a.close()
        b.close()


def test_different_seeds_differ() -> None:
    runs = []
    for seed in (1, 2):
        wc = Workcell("default", seed=seed)
        try:
            runs.append((wc.state_vector().tolist(), _events(wc)))
        finally:
            wc.close()
    assert runs[0] != runs[1]


def test_one_event_per_attempt_and_counts() -> None:
    wc = Workcell("default", seed=3)
    try:
        kinds = []
        for speed, care in ACTIONS:
            result = wc.run_cycle(speed, care)
            assert len(result.events) == 1 and result.duration_s > 0
            kinds.append(result.events[0].kind)
        assert wc.attempts == 3
        assert wc.units == kinds.count("unit")
        assert wc.errors == 3 - wc.units == sum(wc.errors_by_type.values())
    finally:
        wc.close()


@pytest.mark.parametrize("action", [(math.nan, 0.5), (0.5, math.inf), (-0.1, 0.5), (0.5, 1.01)])
def test_bad_action_raises(action: tuple[float, float]) -> None:
    wc = Workcell("default", seed=0)
    try:
        with pytest.raises(ValueError, match="speed|care"):
            wc.run_cycle(*action)
        assert wc.attempts == 0 and wc.sim_time_s == 0.0
    finally:
        wc.close()


def test_tick_clock_phases_and_scrubbing() -> None:
    wc = Workcell("default", seed=4)
    seen: list[tuple[float, dict]] = []
    try:
        result = wc.run_cycle(0.6, 0.9, tick=lambda t: seen.append((t, wc.aux_state())), tick_period_s=0.1)
        times = np.array([t for t, _ in seen])
        assert np.all(np.diff(times) > 0)
        assert np.allclose(np.diff(times), 0.1, atol=0.02)  # the scrub's coarse step may land a tick 1/120 s late
        assert abs(len(times) - result.duration_s / 0.1) <= 2
        phases = [aux["arm_phase"] for _, aux in seen]
        assert {1, 2, 3} <= set(phases)
        assert phases.index(1) < phases.index(2) < phases.index(3)
        dirt = [aux["dish_dirt"] for _, aux in seen if aux["arm_phase"] == 2]
        assert dirt[0] > dirt[-1]  # scrubbing removes dirt
        assert all(aux["dish_held"] for _, aux in seen if aux["arm_phase"] == 2)
        aux = seen[0][1]
        assert set(aux) == {"dish_dirt", "dish_held", "arm_phase", "speed", "care"}
        assert (aux["speed"], aux["care"]) == (0.6, 0.9)
    finally:
        wc.close()


def test_state_vector_documented_and_bounded() -> None:
    wc = Workcell("customer_bistro", seed=8)
    try:
        assert len(STATE.doc) == STATE.dim
        for _ in range(2):
            v = wc.state_vector()
            assert v.shape == (STATE.dim,) and v.dtype == np.float32
            assert np.all(v >= STATE.low) and np.all(v <= STATE.high)
            assert v[:3].sum() == 1.0  # the next dish's type, one-hot
            wc.run_cycle(0.5, 0.8)
        assert v[7] > 0 and (v[10], v[11]) == pytest.approx((0.5, 0.8))
    finally:
        wc.close()


def test_camera_frames() -> None:
    wc = Workcell("default", seed=0, render_size=64)
    try:
        frame = wc.render_rgb()
        assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
        assert frame.std() > 10  # a scene, not a blank
        assert wc.render_rgb(32).shape == (32, 32, 3)
    finally:
        wc.close()
