"""Sim-to-robot rehearsal on a private ROS domain: a video recorded from the simulator, replayed by
`camera_node source:=file` into `launch/robot.launch.yaml`, drives the policy (video encoder -> latent + the
robot state the test publishes as the robot's driver would): its actions arrive, finite and within the action's
bounds, and they are the policy's, not the watchdog's safe action."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from std_msgs.msg import Float32MultiArray  # noqa: E402

from node_harness import wait_until  # noqa: E402
from v2p.experiments.rehearsal import record_sim_video  # noqa: E402
from v2p.task import topics  # noqa: E402
from v2p.task.dishwashing import ACTION, ROBOT_STATE  # noqa: E402
from v2p_ros.common import float_array, reliable_qos  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def test_a_simulator_video_replayed_into_the_robot_launch_drives_the_policy(driver, processes, tmp_path):
    video = tmp_path / "sim.avi"
    states = record_sim_video(video, "default", seed=3, shifts=1, shift_hours=0.05)
    assert states.shape[1] == ROBOT_STATE.dim and len(states) >= 3

    actions = driver.subscribe(Float32MultiArray, topics.ACTION, reliable_qos(10))
    robot_pub = driver.publisher(Float32MultiArray, topics.ROBOT_STATE, reliable_qos(10))
    launch = processes.start([sys.executable, "-m", "v2p.cli", "launch", str(REPO / "launch/robot.launch.yaml"),
                              "source:=file", f"file:={video}", "loop:=true", "rate_hz:=10.0",
                              "latent_rate_hz:=5.0"], "robot_launch")
    driver.wait_for_match(robot_pub, timeout=120.0)
    deadline = time.monotonic() + 120.0
    k = 0
    while len(actions) < 12 and time.monotonic() < deadline:  # the driver's robot state, a new one each 0.2 s
        robot_pub.publish(float_array(states[k % len(states)], "robot_state"))
        k += 1
        time.sleep(0.2)
        assert launch.poll() is None, launch.output()
    wait_until(lambda: len(actions) >= 12, 5.0, f"12 actions (got {len(actions)}):\n{launch.output()}")

    values = np.array([np.asarray(m.data, np.float64) for m in actions])
    assert values.shape[1] == ACTION.dim and np.isfinite(values).all()
    assert np.all(values >= ACTION.low_array) and np.all(values <= ACTION.high_array)
    policy = [v for v in values if not np.allclose(v, ACTION.safe, atol=1e-6)]
    assert len(policy) >= 10, values  # the actor's answers to the replayed frames, not the watchdog's
    assert len({tuple(np.round(v, 7)) for v in policy}) > 1, values  # they follow the frames and states
    assert processes.stop(launch, signal.SIGINT, timeout=60.0) == 0, launch.output()
    assert "Traceback" not in launch.output(), launch.output()
