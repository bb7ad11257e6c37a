"""Bad input to every subscriber, per node and input topic: random bytes published raw (serialized CDR that is
not a message of the topic's type), another type's serialized message, a CDR header claiming a 2^31-element
array, and well-formed messages with wrong lengths, NaN/inf or a wrong image encoding. The node must stay up,
publish nothing derived from them, still answer the next valid input, and end cleanly on SIGINT.

Raw payloads never carry zero bytes: rmw_fastrtps stalls the *publishing* writer after an empty raw sample (a
property of the test's own publisher, not of the node under test)."""

from __future__ import annotations

import math
import time
import signal
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from builtin_interfaces.msg import Time  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.serialization import serialize_message  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Float32MultiArray, Float64MultiArray, String  # noqa: E402

from node_harness import Driver, node_argv, send_until, wait_until  # noqa: E402
from v2p.task.dishwashing import EVENTS  # noqa: E402
from v2p.task.events import SimEvent  # noqa: E402
from v2p_ros.common import float_array, latched_qos, numpy_to_image, reliable_qos, sensor_qos  # noqa: E402

SEED = 9
QOS = {"reliable": lambda: reliable_qos(100), "latched": latched_qos, "sensor": sensor_qos}
HUGE_ARRAY = b"\x00\x01\x00\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00" + b"\xff\xff\xff\x7f"  # no dims, 2^31-1 values


def image(encoding: str = "rgb8", height: int | None = None) -> Image:
    msg = numpy_to_image(np.random.default_rng(SEED).integers(0, 255, (32, 40, 3), dtype=np.uint8), Time(sec=3),
                         "sim_camera")
    msg.encoding = encoding
    if height is not None:
        msg.height = height
    return msg


def events(*evs: SimEvent) -> list[Float64MultiArray]:
    return [Float64MultiArray(data=[float(v) for v in e.to_array(EVENTS)]) for e in evs]


@dataclass
class Case:
    params: list[str]
    inputs: dict[str, tuple[type, str]]  # topic -> (message type, QoS name)
    output: tuple[str, type, str]  # what the node derives from its inputs
    valid: tuple[str, Any]  # a valid input (message or list of messages) on one input topic
    well_formed_bad: dict[str, list[Any]] = field(default_factory=dict)
    first_output_at_start: bool = False  # the sim publishes its first state before any action


CASES = {
    "policy_node": Case(
        ["seed:=5", "input_timeout_s:=3600.0"],
        {"/encoder/latent": (Float32MultiArray, "reliable"), "/learner/checkpoint": (String, "latched")},
        ("/policy/action", Float32MultiArray, "reliable"),
        ("/encoder/latent", float_array(np.linspace(-1, 1, 128))),
        {"/encoder/latent": [float_array(np.ones(7)), float_array(np.full(128, math.inf)), float_array([])]}),
    "camera_node": Case(
        ["source:=sim"], {"/sim/camera/image": (Image, "sensor")}, ("/camera/image_raw", Image, "sensor"),
        ("/sim/camera/image", image()), {"/sim/camera/image": [image("bgr8"), image("32FC1"), image(height=31)]}),
    "encoder_node": Case(
        ["encoder:=mlp", "seed:=3"],
        {"/sim/state": (Float32MultiArray, "reliable")},  # /sim/events only in video mode
        ("/encoder/latent", Float32MultiArray, "reliable"),
        ("/sim/state", float_array(np.linspace(0, 1, 12))),
        {"/sim/state": [float_array([math.nan] * 12)]}),
    "econ_monitor_node": Case(
        ["running_rate_hz:=0.0", "site:=test_site"],
        {"/sim/events": (Float64MultiArray, "reliable"), "/policy/action": (Float32MultiArray, "reliable")},
        ("/econ/summary", DiagnosticArray, "reliable"),
        ("/sim/events", events(SimEvent(0, "episode_start", 0.0, episode_hours=0.01),
                               SimEvent(0, "unit", 10.0, 0, "plate"),
                               SimEvent(0, "episode_end", 36.0, episode_hours=0.01))),
        {"/sim/events": [Float64MultiArray(data=[math.nan] * 8), Float64MultiArray(data=[1.0])],
         "/policy/action": [float_array([math.inf, 0.5]), float_array([0.5])]}),
    "sim_node": Case(
        ["episodes:=0", "seed:=4", "camera_rate_hz:=0.5", "action_timeout_s:=3600.0", "resend_period_s:=3600.0"],
        {"/policy/action": (Float32MultiArray, "reliable")}, ("/sim/state", Float32MultiArray, "reliable"),
        ("/policy/action", float_array([0.5, 0.5])),
        {"/policy/action": [float_array([0.5]), float_array([math.nan, 0.5]), float_array([2.0, -1.0])]},
        first_output_at_start=True),
}
FAST = {"policy_node", "camera_node", "econ_monitor_node", "sim_node"}  # the default run; all with -m slow


def garbage(msg_type: type, rng: np.random.Generator) -> list[bytes]:
    """Serialized payloads that are not a valid `msg_type`: random bytes, another type's message, a huge array."""
    blobs = [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in (1, 3, 4, 8, 13, 64, 1000)]
    blobs.append(b"\x00\x01\x00\x00" + rng.integers(0, 256, 200, dtype=np.uint8).tobytes())  # CDR header, junk
    other = String(data="not a message of this type") if msg_type is not String else float_array([1.0, 2.0])
    blobs += [serialize_message(other), HUGE_ARRAY]
    return blobs


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in CASES])
def test_node_survives_bad_input_on_every_topic_and_derives_nothing(name, ros_env, processes):
    case = CASES[name]
    driver = Driver()
    try:
        out_topic, out_type, out_qos = case.output
        driver.subscribe(out_type, out_topic, QOS[out_qos]())
        pubs = {topic: driver.publisher(t, topic, QOS[q]()) for topic, (t, q) in case.inputs.items()}
        node = processes.start(node_argv(name, *case.params), name)
        for pub in pubs.values():
            driver.wait_for_match(pub)
        wait_until(lambda: driver.node.count_subscribers(out_topic) >= 1, 60.0, f"{name} subscribing")
        wait_until(lambda: driver.node.count_publishers(out_topic) >= 1, 60.0, f"{name} publishing {out_topic}")
        if case.first_output_at_start:
            wait_until(lambda: driver.count(out_topic) >= 1, 120.0, "the first output")
        time.sleep(0.5)
        before = driver.count(out_topic)

        rng = np.random.default_rng(SEED)
        sent = 0
        for topic, (msg_type, _) in case.inputs.items():
            for blob in garbage(msg_type, rng):
                pubs[topic].publish(blob)
                sent += 1
            for msg in case.well_formed_bad.get(topic, []):
                pubs[topic].publish(msg)
                sent += 1
        assert driver.quiet(out_topic, 2.0) == 0 and driver.count(out_topic) == before, \
            f"{name} published {out_topic} after {sent} bad inputs"
        assert node.poll() is None, node.output()

        topic, valid = case.valid
        batch = valid if isinstance(valid, list) else [valid]
        send_until(lambda: [pubs[topic].publish(m) for m in batch], lambda: driver.count(out_topic) > before,
                   60.0, f"{name} answering a valid input after the bad ones", period=2.0)
        if name == "policy_node":  # garbage on /learner/checkpoint left the fresh actor of seed 5 in place
            import torch

            from v2p_ros.policy_node import fresh_actor

            latent = torch.as_tensor(np.array(valid.data, np.float32)).unsqueeze(0)
            expected = fresh_actor(128, 5).act(latent, True)[0].numpy()
            np.testing.assert_allclose(np.array(driver.received[out_topic][-1].data), expected, rtol=1e-5)
        assert processes.stop(node, signal.SIGINT, timeout=30.0) == 0, node.output()
        assert "Traceback" not in node.output(), node.output()
    finally:
        driver.close()
