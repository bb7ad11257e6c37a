"""Bad input to every subscriber, per node and input topic: random bytes published raw (serialized CDR that is
not a message of the topic's type), another type's serialized message, a CDR header claiming a 2^31-element
array; well-formed messages no sender of the topic would send (huge arrays, a huge string, JSON nested past the
parser's stack, images whose headers lie about their size); and well-formed messages with wrong lengths, NaN/inf
or a wrong image encoding. The node must stay up, publish nothing derived from them, still answer the next valid
input, and end cleanly on SIGINT. Latched inputs are re-delivered to a respawned node: test_strangers.py.

Raw payloads never carry zero bytes: rmw_fastrtps stalls the *publishing* writer after an empty raw sample (a
property of the test's own publisher, not of the node under test)."""

from __future__ import annotations

import array
import json
import math
import time
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from builtin_interfaces.msg import Time  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue  # noqa: E402
from rclpy.impl.implementation_singleton import rclpy_implementation  # noqa: E402
from rclpy.duration import Duration  # noqa: E402
from rclpy.serialization import serialize_message  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Float32MultiArray, Float64, Float64MultiArray, String  # noqa: E402
from visualization_msgs.msg import MarkerArray  # noqa: E402

from node_harness import Driver, node_argv, send_until, wait_until  # noqa: E402
from v2p.dashboard import ECON_METRICS  # noqa: E402
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


def summary(error_target: str) -> DiagnosticArray:
    """An /econ/summary whose e* is `error_target` (viz_node reads it), repeated over many statuses."""
    status = DiagnosticStatus(name="econ_monitor: episode", values=[KeyValue(key="error_target", value=error_target)])
    return DiagnosticArray(status=[status] * 200)


HUGE_VALUES = 1 << 22  # a well-formed array of 4 Mi values: 16 MiB of float32


def lying_images() -> list[Image]:
    """rgb8 images whose height, width or step disagree with their data, and 16 MiB of data behind a 32x40
    header."""
    lies = []
    for height, width, step in ((2**31 - 1, 40, 120), (32, 2**31 - 1, 2**32 - 1), (32, 40, 2**32 - 1),
                                (2**32 - 1, 2**32 - 1, 2**32 - 1), (0, 40, 120), (32, 0, 0), (32, 40, 119)):
        msg = image()
        msg.height, msg.width, msg.step = height, width, step
        lies.append(msg)
    big = image()
    big.data = array.array("B", bytes(1 << 24))
    return lies + [big]


def hostile(msg_type: type) -> list[Any]:
    """Well-formed messages of `msg_type` that no sender of these topics would send."""
    if msg_type is Float32MultiArray:
        return [float_array(np.zeros(HUGE_VALUES, np.float32))]
    if msg_type is Float64MultiArray:
        return [Float64MultiArray(data=array.array("d", bytes(8 * HUGE_VALUES // 2)))]
    if msg_type is String:
        return [String(data="x" * (1 << 23)), String(data="[" * 5000 + "]" * 5000),
                String(data=json.dumps({"format": "v2p-checkpoint-announcement/1", "path": "/" + "a" * 5000}))]
    if msg_type is Image:
        return lying_images()
    if msg_type is DiagnosticArray:  # 10,000 key-values of 2,000 characters
        return [DiagnosticArray(status=[DiagnosticStatus(values=[KeyValue(key="k" * 1000, value="v" * 1000)] * 100)]
                                * 100)]
    return []  # Float64: a number; NaN and inf are its bad values


@dataclass
class Case:
    params: list[str]  # "{tmp}" stands for the test's tmp_path
    inputs: dict[str, tuple[type, str]]  # topic -> (message type, QoS name)
    output: tuple[str, type, str]  # what the node derives from its inputs
    valid: tuple[str, Any] | list[tuple[str, Any]]  # a valid input (message or list) on one topic, or (topic, msg)s
    well_formed_bad: dict[str, list[Any]] = field(default_factory=dict)
    first_output_at_start: bool = False  # the sim publishes its first state before any action; viz its markers
    derived: Callable[[list[Any]], Any] = len  # what the outputs say: unchanged by bad input, changed by valid input
    setup: Callable[[Path], dict[str, list[Any]]] = lambda tmp: {}  # more well-formed bad input, made in tmp_path


def economics_texts(arrays: list[MarkerArray]) -> tuple[str, ...]:
    """The live-economics lines of the newest marker array (what viz_node derives from /econ/*)."""
    return tuple(m.text for m in arrays[-1].markers if m.ns == "economics") if arrays else ()


def policy_checkpoints(tmp: Path) -> dict[str, list[Any]]:
    """Announcements a stranger could latch: a loadable checkpoint outside the roots, one inside with another
    content hash, and a bare path (what announcements were before they carried a hash)."""
    from test_nodes_policy import write_checkpoint

    from v2p.learning.announcement import CheckpointAnnouncement, describe, dump

    elsewhere = write_checkpoint(tmp / "elsewhere" / "update_000000001", 128, seed=2)
    inside = write_checkpoint(tmp / "learner" / "update_000000001", 128, seed=3)
    return {"/learner/checkpoint": [String(data=dump(describe(elsewhere))),
                                    String(data=dump(CheckpointAnnouncement(str(inside), "0" * 64, 9, 9))),
                                    String(data=str(inside))]}


CASES = {
    "policy_node": Case(
        ["seed:=5", "input_timeout_s:=3600.0", "checkpoint_roots:=[{tmp}/learner]", "observation:=latent"],
        {"/encoder/latent": (Float32MultiArray, "reliable"), "/learner/checkpoint": (String, "latched")},
        ("/policy/action", Float32MultiArray, "reliable"),
        ("/encoder/latent", float_array(np.linspace(-1, 1, 128))),
        {"/encoder/latent": [float_array(np.ones(7)), float_array(np.full(128, math.inf)), float_array([])]},
        setup=policy_checkpoints),
    "camera_node": Case(
        ["source:=sim"], {"/sim/camera/image": (Image, "sensor")}, ("/camera/image_raw", Image, "sensor"),
        ("/sim/camera/image", image()), {"/sim/camera/image": [image("bgr8"), image("32FC1"), image(height=31)]}),
    "encoder_node": Case(
        ["encoder:=mlp", "seed:=3"],
        {"/sim/state": (Float32MultiArray, "reliable")},  # /sim/events only in video mode
        ("/encoder/latent", Float32MultiArray, "reliable"),
        ("/sim/state", float_array(np.linspace(0, 1, 12))),
        {"/sim/state": [float_array([math.nan] * 12)]}),
    "encoder_node_video": Case(
        ["encoder:=video", "mode:=lockstep", "frame_wait_s:=0.2"],
        {"/camera/image_raw": (Image, "sensor"), "/sim/events": (Float64MultiArray, "reliable"),
         "/sim/state": (Float32MultiArray, "reliable")},
        ("/encoder/latent", Float32MultiArray, "reliable"),
        [("/camera/image_raw", image()), ("/sim/state", float_array(np.linspace(0, 1, 12)))],  # a frame, a tick
        {"/camera/image_raw": [image("bgr8"), image(height=31)], "/sim/state": [float_array([math.nan] * 12)],
         "/sim/events": [Float64MultiArray(data=[math.nan] * 6)]}),
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
    "viz_node": Case(
        ["rate_hz:=5.0"],
        {**{m.topic: (Float64, "reliable") for m in ECON_METRICS}, "/econ/summary": (DiagnosticArray, "reliable")},
        ("/viz/markers", MarkerArray, "latched"),
        ("/econ/mp", Float64(data=42.0)),
        {**{m.topic: [Float64(data=v) for v in (math.nan, math.inf, -math.inf)] for m in ECON_METRICS},
         "/econ/summary": [summary(v) for v in ("nan", "1e999", "-0.5", "1.5", "0", "x" * 100_000, "")]},
        first_output_at_start=True, derived=economics_texts),
}
FAST = {"policy_node", "camera_node", "econ_monitor_node", "sim_node", "viz_node"}  # the default run; all with -m slow


def garbage(msg_type: type, rng: np.random.Generator) -> list[bytes]:
    """Serialized payloads that are not a valid `msg_type`: random bytes, another type's message, a huge array."""
    blobs = [rng.integers(0, 256, int(n), dtype=np.uint8).tobytes() for n in (1, 3, 4, 8, 13, 64, 1000)]
    blobs.append(b"\x00\x01\x00\x00" + rng.integers(0, 256, 200, dtype=np.uint8).tobytes())  # CDR header, junk
    other = String(data="not a message of this type") if msg_type is not String else float_array([1.0, 2.0])
    blobs += [serialize_message(other), HUGE_ARRAY]
    return blobs


@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in CASES])
def test_node_survives_bad_input_on_every_topic_and_derives_nothing(name, ros_env, processes, tmp_path):
    case = CASES[name]
    extra = case.setup(tmp_path)
    driver = Driver()
    try:
        out_topic, out_type, out_qos = case.output
        driver.subscribe(out_type, out_topic, QOS[out_qos]())
        pubs = {topic: driver.publisher(t, topic, QOS[q]()) for topic, (t, q) in case.inputs.items()}
        node = processes.start(node_argv(name.removesuffix("_video"), *(p.format(tmp=tmp_path) for p in case.params)),
                               name)
        for pub in pubs.values():
            driver.wait_for_match(pub)
        wait_until(lambda: driver.node.count_subscribers(out_topic) >= 1, 60.0, f"{name} subscribing")
        wait_until(lambda: driver.node.count_publishers(out_topic) >= 1, 60.0, f"{name} publishing {out_topic}")
        if case.first_output_at_start:
            wait_until(lambda: driver.count(out_topic) >= 1, 120.0, "the first output")
        time.sleep(0.5)

        def derived() -> Any:
            with driver.lock:
                return case.derived(list(driver.received[out_topic]))

        before = derived()
        rng = np.random.default_rng(SEED)
        sent = 0
        for topic, (msg_type, qos) in case.inputs.items():
            for msg in garbage(msg_type, rng) + hostile(msg_type) + case.well_formed_bad.get(topic, []) + \
                    extra.get(topic, []):
                try:
                    pubs[topic].publish(msg)
                except rclpy_implementation.RCLError:  # a bounded type's writer (Float64: 12 bytes) refuses a longer raw payload
                    assert isinstance(msg, bytes) and msg_type is Float64, msg_type
                    continue
                sent += 1
                if qos == "latched":  # keep-last 1 on both sides: one at a time, or the next replaces it unread
                    pubs[topic].wait_for_all_acked(Duration(seconds=10.0))
                    time.sleep(0.3)
        time.sleep(3.0)  # the huge ones take the node a moment
        assert derived() == before, f"{name} derived {out_topic} output from {sent} bad inputs"
        assert node.poll() is None, node.output()

        if isinstance(case.valid, list):
            valid = case.valid
        else:
            topic, msgs = case.valid
            valid = [(topic, m) for m in (msgs if isinstance(msgs, list) else [msgs])]
        send_until(lambda: [pubs[t].publish(m) for t, m in valid], lambda: derived() != before,
                   60.0, f"{name} answering a valid input after the bad ones", period=2.0)
        if name == "policy_node":  # nothing on /learner/checkpoint replaced the fresh actor of seed 5
            import torch

            from v2p_ros.policy_node import fresh_actor

            latent = torch.as_tensor(np.array(valid[0][1].data, np.float32)).unsqueeze(0)
            expected = fresh_actor(128, 5).act(latent, True)[0].numpy()
            np.testing.assert_allclose(np.array(driver.received[out_topic][-1].data), expected, rtol=1e-5)
            refusals = len(hostile(String)) + len(extra["/learner/checkpoint"])  # each named once in the log
            assert node.output().count("keeping the current weights") >= refusals, node.output()
        assert processes.stop(node, signal.SIGINT, timeout=30.0) == 0, node.output()
        assert "Traceback" not in node.output(), node.output()
    finally:
        driver.close()
