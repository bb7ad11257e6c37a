"""Strangers on the ROS domain: a latched (transient-local) announcement is re-delivered to every respawn of the
policy node, so a bad one must never crash it or be acted on, however often launch respawns it; a good one is
what a respawned policy loads. The raw subscribers (recorder, Foxglove bridge) store or forward hostile payloads
without deserializing them and stay up.

Announcement parsing and checkpoint verification without ROS: tests/learning/test_announcement.py; hostile payloads
on every other subscription: test_bad_input_nodes.py."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from rclpy.duration import Duration  # noqa: E402
from std_msgs.msg import Float32MultiArray, String  # noqa: E402

from node_harness import Driver, node_argv, send_until, wait_until  # noqa: E402
from test_bad_input_nodes import garbage, hostile  # noqa: E402
from v2p.learning.announcement import describe, dump  # noqa: E402
from v2p_ros.common import float_array, latched_qos, reliable_qos, sensor_qos  # noqa: E402

torch.set_num_threads(1)
PY = sys.executable
REFUSED = "keeping the current weights"


def starts(output: str, name: str) -> list[int]:
    return [int(pid) for pid in re.findall(rf"\[INFO\] \[{name}-\d+\]: process started with pid \[(\d+)\]", output)]


def test_a_bad_latched_announcement_never_crash_loops_a_respawning_policy(ros_env, processes, tmp_path):
    from test_nodes_policy import write_checkpoint

    from v2p.rl import load_actor
    from v2p_ros.policy_node import fresh_actor

    root = tmp_path / "learner"
    good = write_checkpoint(root / "update_000000007", 128, seed=1)
    outside = write_checkpoint(tmp_path / "elsewhere" / "update_000000001", 128, seed=2)  # would load, if followed
    launch = tmp_path / "policy.launch.yaml"
    launch.write_text(f"""
launch:
- executable:
    cmd: "{PY} -m v2p_ros.policy_node --ros-args -p seed:=5 -p input_timeout_s:=3600.0 -p checkpoint_roots:=[{root}] -p observation:=latent"
    name: policy
    output: screen
    respawn: "true"
    respawn_delay: 0.5
""")
    latent = np.random.default_rng(3).normal(size=128).astype(np.float32)

    def act(actor: torch.nn.Module) -> np.ndarray:
        return actor.act(torch.from_numpy(latent).unsqueeze(0), True)[0].numpy()

    driver = Driver()
    try:
        actions = driver.subscribe(Float32MultiArray, "/policy/action", reliable_qos(10))
        latent_pub = driver.publisher(Float32MultiArray, "/encoder/latent", reliable_qos(10))
        announce = driver.publisher(String, "/learner/checkpoint", latched_qos())
        launcher = processes.start([PY, "-m", "v2p.cli", "launch", str(launch)], "launcher")

        def respawned_policy_acts(expected: np.ndarray, lives: int) -> None:
            """The policy's `lives`-th process answers a latent with `expected`."""
            wait_until(lambda: len(starts(launcher.output(), "policy")) == lives, 60.0, f"policy process {lives}")
            driver.wait_for_match(latent_pub)
            before = len(actions)
            send_until(lambda: latent_pub.publish(float_array(latent)), lambda: len(actions) > before, 60.0,
                       "an action", period=1.0)
            np.testing.assert_allclose(np.array(actions[-1].data), expected, rtol=1e-5, atol=1e-6)

        def kill_policy() -> None:
            os.kill(starts(launcher.output(), "policy")[-1], signal.SIGKILL)

        fresh = act(fresh_actor(128, 5))
        respawned_policy_acts(fresh, 1)
        lives = 1
        for bad in (dump(describe(outside)), hostile(String)[0].data, "[" * 5000 + "]" * 5000):
            refusals = launcher.output().count(REFUSED)
            announce.publish(String(data=bad))  # latched: every later subscriber gets it, respawns included
            wait_until(lambda: launcher.output().count(REFUSED) > refusals, 30.0, "the refusal")
            kill_policy()
            lives += 1
            # the respawned process gets the same announcement, refuses it once, and acts with the fresh actor
            respawned_policy_acts(fresh, lives)
            wait_until(lambda: launcher.output().count(REFUSED) == refusals + 2, 30.0, "the respawn's refusal")
        time.sleep(2.0)
        assert len(starts(launcher.output(), "policy")) == lives, launcher.output()  # no crash loop
        assert "Traceback" not in launcher.output() and "outside the checkpoint roots" in launcher.output()

        # a good latched announcement is what a respawned policy loads
        announce.publish(String(data=dump(describe(good))))
        wait_until(lambda: "hot-reloaded the policy" in launcher.output(), 30.0, "the reload")
        kill_policy()
        actor, _ = load_actor(good)
        respawned_policy_acts(act(actor), lives + 1)
        assert processes.stop(launcher, signal.SIGINT, timeout=60.0) == 0, launcher.output()
    finally:
        driver.close()


def test_raw_subscribers_store_and_forward_hostile_payloads_and_stay_up(ros_env, processes, tmp_path):
    from sensor_msgs.msg import Image

    from v2p.bags import bag_info

    inputs = {"/sim/state": (Float32MultiArray, reliable_qos(100)), "/learner/checkpoint": (String, latched_qos()),
              "/camera/image_raw": (Image, sensor_qos())}
    driver = Driver()
    try:
        pubs = {topic: driver.publisher(t, topic, qos) for topic, (t, qos) in inputs.items()}
        recorder = processes.start(node_argv("recorder_node", f"record_dir:={tmp_path}", "bag_name:=strangers",
                                             f"topics:=[{', '.join(inputs)}]", "discovery_interval_s:=0.2"),
                                   "recorder")
        bridge = processes.start(node_argv("foxglove_bridge_node", "port:=0", f"topics:=[{', '.join(inputs)}]",
                                           "discovery_period_s:=0.2"), "bridge")
        for pub in pubs.values():
            driver.wait_for_match(pub, subscribers=2, timeout=90.0)
        rng = np.random.default_rng(11)
        sent = {}
        for topic, (msg_type, _) in inputs.items():
            msgs = garbage(msg_type, rng) + hostile(msg_type)
            for msg in msgs:
                pubs[topic].publish(msg)
                if topic == "/learner/checkpoint":
                    pubs[topic].wait_for_all_acked(Duration(seconds=10.0))
            sent[topic] = len(msgs)
        time.sleep(3.0)
        assert recorder.poll() is None and bridge.poll() is None, recorder.output() + bridge.output()
        assert processes.stop(bridge, signal.SIGINT, timeout=30.0) == 0, bridge.output()
        assert processes.stop(recorder, signal.SIGINT, timeout=60.0) == 0, recorder.output()
        counts = {t.name: t.message_count for t in bag_info(tmp_path / "strangers").topics}
        assert counts["/sim/state"] == sent["/sim/state"], (counts, sent)  # reliable: every payload, as sent
        assert 0 < counts["/camera/image_raw"] <= sent["/camera/image_raw"]  # best effort
        assert 0 < counts["/learner/checkpoint"] <= sent["/learner/checkpoint"]
        assert "Traceback" not in recorder.output() + bridge.output()
    finally:
        driver.close()
