"""camera_node on a private ROS domain: the sim relay drops malformed frames and passes good ones with a
CameraInfo; a video file is published as rgb8 frames (looping when asked); a missing file is a clear error."""

from __future__ import annotations

import signal

import numpy as np
import pytest

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from builtin_interfaces.msg import Time  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402

from node_harness import node_argv, send_until, wait_until  # noqa: E402
from v2p_ros.common import image_to_numpy, numpy_to_image, sensor_qos  # noqa: E402


def test_sim_relay_drops_malformed_frames(driver, processes):
    images = driver.subscribe(Image, "/camera/image_raw", sensor_qos())
    infos = driver.subscribe(CameraInfo, "/camera/camera_info", sensor_qos())
    sim_pub = driver.publisher(Image, "/sim/camera/image", sensor_qos())
    node = processes.start(node_argv("camera_node", "source:=sim"), "camera")
    driver.wait_for_match(sim_pub)
    wait_until(lambda: driver.node.count_subscribers("/camera/image_raw") >= 1)
    frame = np.random.default_rng(1).integers(0, 255, (32, 40, 3), dtype=np.uint8)
    mono = numpy_to_image(frame, Time(sec=3), "sim_camera")
    mono.encoding = "mono8"
    torn = numpy_to_image(frame, Time(sec=3), "sim_camera")
    torn.height = 33
    send_until(lambda: [sim_pub.publish(m) for m in (mono, torn)],
               lambda: "'mono8' is not supported" in node.output() and "bytes" in node.output(), 30.0,
               "both malformed frames rejected")
    assert node.output().count("dropping /sim/camera/image") >= 2
    assert driver.quiet("/camera/image_raw", 0.5) == 0 and driver.count("/camera/image_raw") == 0
    send_until(lambda: sim_pub.publish(numpy_to_image(frame, Time(sec=4), "sim_camera")),
               lambda: bool(images and infos), 30.0, "a relayed frame")
    np.testing.assert_array_equal(image_to_numpy(images[0]), frame)
    assert images[0].header.stamp.sec == 4 and infos[0].width == 40 and infos[0].height == 32
    assert infos[0].k[0] > 0 and infos[0].header.stamp.sec == 4
    assert processes.stop(node, signal.SIGINT) == 0


def test_video_file_source_publishes_rgb_frames_and_a_missing_file_is_an_error(driver, processes, tmp_path):
    import cv2

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (80, 60))
    for i in range(4):
        bgr = np.zeros((60, 80, 3), np.uint8)
        bgr[..., 2] = 200  # red in OpenCV's BGR order
        bgr[..., 1] = 40 * i
        writer.write(bgr)
    writer.release()
    images = driver.subscribe(Image, "/camera/image_raw", sensor_qos())
    node = processes.start(node_argv("camera_node", "source:=file", f"file:={path}", "loop:=true",
                                     "rate_hz:=20.0", "width:=40", "height:=30"), "camera")
    wait_until(lambda: len(images) >= 6, 60.0, "frames beyond the clip's four (looped)")
    rgb = image_to_numpy(images[-1])
    assert images[-1].encoding == "rgb8" and rgb.shape == (30, 40, 3)
    assert rgb[..., 0].mean() > 150 and rgb[..., 2].mean() < 50  # red stays red after BGR -> RGB
    assert processes.stop(node, signal.SIGINT) == 0

    missing = processes.start(node_argv("camera_node", "source:=file", f"file:={tmp_path / 'nope.avi'}"), "missing")
    assert missing.wait(timeout=60) == 2
    assert f"{tmp_path / 'nope.avi'} does not exist" in missing.output()
    folder = processes.start(node_argv("camera_node", "source:=file", f"file:={tmp_path}"), "folder")
    assert folder.wait(timeout=60) == 2
    assert "is not a regular file" in folder.output()
