"""sim_node on a private ROS domain, driven by the test as its policy (lockstep): out-of-range and NaN actions are
logged and ignored (the cycle waits for a valid one), a step with no answer falls back to the safe action, the
shift is framed by episode_start/episode_end events, /clock only moves forward, the camera is rgb8, and the node
exits 0 after its episodes."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Float32MultiArray, Float64MultiArray  # noqa: E402

from node_harness import node_argv, wait_until  # noqa: E402
from v2p.task.dishwashing import EVENTS  # noqa: E402
from v2p.task.events import SimEvent  # noqa: E402
from v2p_ros.common import float_array, image_to_numpy, reliable_qos, sensor_qos  # noqa: E402


def test_lockstep_sim_ignores_invalid_actions_falls_back_to_safe_and_exits_after_its_shifts(driver, processes):
    states = driver.subscribe(Float32MultiArray, "/sim/state", reliable_qos(10))
    events = driver.subscribe(Float64MultiArray, "/sim/events", reliable_qos(100))
    clocks = driver.subscribe(Clock, "/clock", reliable_qos(100))
    images = driver.subscribe(Image, "/sim/camera/image", sensor_qos())
    action_pub = driver.publisher(Float32MultiArray, "/policy/action", reliable_qos(10))
    sim = processes.start(node_argv(
        "sim_node", "episodes:=1", "shift_hours:=0.012", "seed:=4", "camera_rate_hz:=1.0",
        "action_timeout_s:=4.0", "resend_period_s:=60.0", "safe_action:=[0.25, 0.95]",
        'await_subscribers:=["/sim/state:1", "/sim/events:1"]'), "sim")
    driver.wait_for_match(action_pub)
    wait_until(lambda: len(states) >= 1, 60.0, "the first state")

    # step 0: two invalid actions, then a valid one; the sim must wait for the valid one
    action_pub.publish(float_array([1.5, 0.2]))
    action_pub.publish(float_array([math.nan, 0.5]))
    wait_until(lambda: sim.output().count("ignoring /policy/action") == 2, 10.0, "two rejections")
    assert len(events) == 1 and SimEvent.from_array(events[0].data, EVENTS).kind == "episode_start"
    assert len(states) == 1  # no cycle ran on an invalid action
    action_pub.publish(float_array([0.7, 0.3]))
    wait_until(lambda: len(states) >= 2, 30.0, "the second state")
    np.testing.assert_allclose(np.array(states[1].data)[10:12], [0.7, 0.3], rtol=1e-6)  # previous speed, care

    # step 1: no answer: after action_timeout_s the safe action runs the cycle
    wait_until(lambda: "using the safe action" in sim.output() or sim.poll() is not None, 30.0, "the fallback")
    # answer whatever steps remain until the shift ends
    answered = 2
    while sim.poll() is None:
        if len(states) > answered:
            answered = len(states)
            action_pub.publish(float_array([0.5, 0.5]))
        time.sleep(0.05)
    assert sim.returncode == 0, sim.output()
    assert sim.output().count("using the safe action") == 1
    if len(states) >= 3:
        np.testing.assert_allclose(np.array(states[2].data)[10:12], [0.25, 0.95], rtol=1e-6)

    parsed = [SimEvent.from_array(m.data, EVENTS) for m in events]
    kinds = [e.kind for e in parsed]
    assert kinds[0] == "episode_start" and kinds[-1] == "episode_end"
    work = [e for e in parsed if e.kind not in ("episode_start", "episode_end")]
    assert len(work) == len(states)  # one unit or error per control step
    assert parsed[0].episode_hours == pytest.approx(0.012)
    assert parsed[-1].episode_hours >= 0.012 and parsed[-1].sim_time_s == pytest.approx(
        parsed[-1].episode_hours * 3600.0)
    times = [c.clock.sec + c.clock.nanosec * 1e-9 for c in clocks]
    assert len(times) > 100 and all(b >= a for a, b in zip(times, times[1:]))
    assert images and image_to_numpy(images[-1]).shape == (64, 64, 3)
    assert "Traceback" not in sim.output()
