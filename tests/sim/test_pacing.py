"""The sim loop's pacing (v2p_sim.pacing) and its StopRequest (v2p.stopping), without ROS: actions arrive from
another thread as the sim node's executor delivers them."""

from __future__ import annotations

import threading
import time

from v2p.stopping import StopRequest
from v2p_sim.pacing import LockstepPacing, RealtimePacing

SAFE = (0.2, 1.0)


def later(seconds: float, what) -> threading.Thread:  # noqa: ANN001
    thread = threading.Thread(target=lambda: (time.sleep(seconds), what()), daemon=True)
    thread.start()
    return thread


def test_stop_request_wakes_waits_and_runs_its_callbacks_once():
    stop = StopRequest()
    calls = []
    stop.on_request(lambda: calls.append("first"))
    later(0.1, stop.request)
    assert stop.sleep(60.0) is True  # cut short: the test would time out otherwise
    stop.request()
    stop.on_request(lambda: calls.append("late"))  # already requested: called at once
    assert calls == ["first", "late"]
    assert stop.wait_for(lambda: False, 60.0) is False and stop.wait_for(lambda: True, 60.0) is True


def test_lockstep_answer_is_the_first_action_after_the_state():
    stop = StopRequest()
    warnings = []
    pacing = LockstepPacing(stop, SAFE, action_timeout_s=60.0, resend_period_s=60.0, warn=warnings.append)
    pacing.on_action((0.9, 0.9), 0.0)  # before the state: it answered an earlier one
    published = []

    def publish_state() -> None:
        published.append(time.monotonic())
        later(0.05, lambda: (pacing.on_action((0.7, 0.3), 0.0), pacing.on_action((0.1, 0.1), 0.0)))

    assert pacing.action(0.0, publish_state) == (0.7, 0.3)
    assert len(published) == 1 and pacing.fallbacks == 0 and not warnings
    pacing.on_action((0.5, 0.5), 0.0)  # between states: nobody waits for it
    assert pacing.action(15.0, lambda: later(0.05, lambda: pacing.on_action((0.4, 0.6), 15.0))) == (0.4, 0.6)


def test_lockstep_resends_the_state_then_falls_back_to_the_safe_action():
    warnings = []
    pacing = LockstepPacing(StopRequest(), SAFE, action_timeout_s=0.5, resend_period_s=0.1, warn=warnings.append)
    published = []
    assert pacing.action(0.0, lambda: published.append(1)) == SAFE
    assert 2 <= len(published) <= 6  # at 0, 0.1, ... 0.4 s (fewer when wake-ups run late): re-sent
    assert pacing.fallbacks == 1 and len(warnings) == 1 and "using the safe action [0.2, 1.0]" in warnings[0]


def test_lockstep_wait_ends_on_a_stop_without_a_fallback():
    stop = StopRequest()
    pacing = LockstepPacing(stop, SAFE, action_timeout_s=60.0, resend_period_s=60.0, warn=lambda text: None)
    later(0.1, stop.request)
    assert pacing.action(0.0, lambda: None) is None
    assert pacing.fallbacks == 0


def test_realtime_publishes_at_its_rate_uses_fresh_actions_and_paces_to_wall_time():
    stop = StopRequest()
    warnings = []
    pacing = RealtimePacing(stop, SAFE, control_rate_hz=2.0, real_time_factor=10.0, action_stale_s=2.0,
                            warn=warnings.append)
    pacing.start_shift(100.0)
    published = []
    start = time.monotonic()
    assert pacing.action(100.0, lambda: published.append(100.0)) == SAFE  # no action yet
    pacing.on_action((0.6, 0.4), 100.0)
    for k in range(1, 11):  # ticks every 0.1 sim s over one sim second
        pacing.on_tick(100.0 + 0.1 * k, lambda k=k: published.append(100.0 + 0.1 * k))
    assert time.monotonic() - start >= 1.0 / 10.0  # one sim second at 10x is at least 0.1 wall s
    assert [round(t, 6) for t in published] == [100.0, 100.5, 101.0]  # every 1/2 Hz of sim time
    assert pacing.action(101.0, lambda: None) == (0.6, 0.4)
    assert pacing.action(102.5, lambda: None) == SAFE  # 2.5 sim s old: stale
    assert pacing.fallbacks == 2 and len(warnings) == 2


def test_realtime_sleep_ends_on_a_stop():
    stop = StopRequest()
    pacing = RealtimePacing(stop, SAFE, control_rate_hz=2.0, real_time_factor=0.01, action_stale_s=2.0,
                            warn=lambda text: None)
    pacing.start_shift(0.0)
    later(0.1, stop.request)
    pacing.on_tick(1.0, lambda: None)  # 100 wall seconds of pacing, cut short
    assert stop.requested
