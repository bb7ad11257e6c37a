"""encoder_node on a private ROS domain: one 128-value latent per control tick; a NaN or wrong-length state, a
wrong-encoding or wrong-size image is logged, publishes nothing, and the node keeps running."""

from __future__ import annotations

import math
import signal

import numpy as np
import pytest

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from builtin_interfaces.msg import Time  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Float32MultiArray  # noqa: E402

from node_harness import Driver, node_argv, send_until, wait_until  # noqa: E402
from v2p_ros.common import float_array, numpy_to_image, reliable_qos, sensor_qos  # noqa: E402


def latents_after(driver: Driver, send, n: int = 1, timeout: float = 10.0) -> list[np.ndarray]:
    before = driver.count("/encoder/latent")
    send()
    wait_until(lambda: driver.count("/encoder/latent") >= before + n, timeout, "a latent")
    return [np.array(m.data) for m in driver.received["/encoder/latent"][before:]]


def test_mlp_encoder_drops_nan_and_wrong_length_states_and_keeps_running(driver, processes):
    driver.subscribe(Float32MultiArray, "/encoder/latent", reliable_qos(10))
    state_pub = driver.publisher(Float32MultiArray, "/sim/state", reliable_qos(10))
    node = processes.start(node_argv("encoder_node", "encoder:=mlp", "seed:=3"), "encoder")
    driver.wait_for_match(state_pub)
    driver.wait_for_publisher("/encoder/latent")
    wait_until(lambda: driver.node.count_subscribers("/encoder/latent") >= 1)  # ours, matched
    state = np.linspace(0.0, 1.0, 12, dtype=np.float32)
    (first,) = latents_after(driver, lambda: state_pub.publish(float_array(state)))
    assert first.shape == (128,) and np.all(np.isfinite(first))

    bad = state.copy()
    bad[4] = math.nan
    state_pub.publish(float_array(bad))
    state_pub.publish(float_array(np.ones(7, np.float32)))  # the encoder learned 12 from the first state
    state_pub.publish(float_array(np.array([1.0, math.inf] * 6, np.float32)))
    assert driver.quiet("/encoder/latent", 1.5) == 0
    (again,) = latents_after(driver, lambda: state_pub.publish(float_array(state)))
    np.testing.assert_array_equal(again, first)  # same state, same weights: same latent
    log = node.output()
    assert log.count("dropping /sim/state") == 3 and "NaN or infinite" in log and "expected 12 values" in log
    assert processes.stop(node, signal.SIGINT) == 0
    assert "Traceback" not in node.output()


@pytest.mark.slow  # image robustness runs by default in test_nodes_camera (the same image_to_numpy check)
def test_video_encoder_drops_bad_images_and_answers_control_ticks(driver, processes):
    driver.subscribe(Float32MultiArray, "/encoder/latent", reliable_qos(10))
    image_pub = driver.publisher(Image, "/camera/image_raw", sensor_qos())
    state_pub = driver.publisher(Float32MultiArray, "/sim/state", reliable_qos(10))
    node = processes.start(node_argv("encoder_node", "encoder:=video", "frame_wait_s:=0.2"), "encoder")
    driver.wait_for_match(image_pub)
    driver.wait_for_match(state_pub)
    wait_until(lambda: driver.node.count_subscribers("/encoder/latent") >= 1)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)  # not square, not 64x64: cropped and resized
    stamp = Time(sec=0, nanosec=0)

    def tick():
        state_pub.publish(float_array(np.zeros(12, np.float32)))

    # best effort: repeat frame + tick until the first latent shows the frame got through (every copy of one
    # frame gives the same clip, since a new clip is padded with its first frame)
    send_until(lambda: (image_pub.publish(numpy_to_image(frame, stamp, "camera")), tick()),
               lambda: driver.count("/encoder/latent") >= 1, 60.0, "a latent from the first frame")
    good = np.array(driver.received["/encoder/latent"][-1].data)
    assert good.shape == (128,) and np.all(np.isfinite(good))

    bgr = numpy_to_image(frame, stamp, "camera")
    bgr.encoding = "bgr8"
    short = numpy_to_image(frame, stamp, "camera")
    short.data = short.data[:-5]  # fewer bytes than height * step
    wide = numpy_to_image(frame, stamp, "camera")
    wide.width = 100  # the header disagrees with the data
    send_until(lambda: [image_pub.publish(m) for m in (bgr, short, wide)],
               lambda: all(t in node.output() for t in ("'bgr8' is not supported", "bytes", "less than 3*width")),
               30.0, "the three malformed images rejected")
    # the clip still holds only the good frame: the next tick encodes exactly what the first one did
    (same,) = latents_after(driver, tick)
    np.testing.assert_allclose(same, good, rtol=1e-6)
    assert processes.stop(node, signal.SIGTERM) == 0
    assert "Traceback" not in node.output()
