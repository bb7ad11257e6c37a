"""camera_node source:=file publishes the frames of a video file, in order, as rgb8, at the requested rate; without
`loop` it exits 0 at the end of the file having published every frame."""

from __future__ import annotations

import re
import statistics
import sys
import time

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.ros

FRAMES, WIDTH, HEIGHT = 16, 64, 48
RED, BLUE = 200, 30  # constant channels: they catch a missing BGR -> RGB conversion


def green_level(index: int) -> int:
    return 10 + 12 * index  # far enough apart that MJPEG's loss never confuses two frames


def write_video(path) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for i in range(FRAMES):
        bgr = np.empty((HEIGHT, WIDTH, 3), np.uint8)
        bgr[:] = (BLUE, green_level(i), RED)  # OpenCV writes BGR
        writer.write(bgr)
    writer.release()


def frame_index(rgb: np.ndarray) -> int:
    assert abs(rgb[..., 0].mean() - RED) < 8 and abs(rgb[..., 2].mean() - BLUE) < 8, "channels are not RGB"
    index = round((rgb[..., 1].mean() - 10) / 12)
    assert 0 <= index < FRAMES and abs(rgb[..., 1].mean() - green_level(index)) < 4
    return index


def camera(processes, ros_env, video, rate_hz: float, loop: bool):
    argv = [sys.executable, "-m", "v2p_ros.camera_node", "--ros-args", "-p", "source:=file", "-p", f"file:={video}",
            "-p", f"rate_hz:={rate_hz}", "-p", f"loop:={str(loop).lower()}"]
    return processes.start(argv, f"camera_{rate_hz}_{loop}", env=ros_env)


def receive_frames(proc, count: int, timeout: float) -> list[tuple[float, np.ndarray]]:
    """(header stamp in s, rgb array) of the first `count` /camera/image_raw messages."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import Image

    from v2p_ros.common import image_to_numpy, sensor_qos

    context = rclpy.Context()
    rclpy.init(context=context)
    frames: list[tuple[float, np.ndarray]] = []
    try:
        node = rclpy.create_node("camera_file_test", context=context)

        def on_image(msg: Image) -> None:
            assert msg.encoding == "rgb8" and (msg.width, msg.height) == (WIDTH, HEIGHT)
            frames.append((msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9, image_to_numpy(msg).copy()))

        node.create_subscription(Image, "/camera/image_raw", on_image, sensor_qos())
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        deadline = time.monotonic() + timeout
        while len(frames) < count and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
            assert proc.poll() is None, proc.output()
        executor.shutdown()
        node.destroy_node()
    finally:
        context.try_shutdown()
    assert len(frames) >= count, f"received {len(frames)} of {count} frames:\n{proc.output()}"
    return frames[:count]


@pytest.mark.parametrize("rate_hz", [5.0, 20.0])
def test_file_frames_arrive_in_order_at_the_requested_rate(processes, ros_env, tmp_path, rate_hz):
    video = tmp_path / "frames.avi"
    write_video(video)
    proc = camera(processes, ros_env, video, rate_hz, loop=True)
    count = FRAMES + FRAMES // 2 if rate_hz > 10 else FRAMES  # the 5 Hz run sees one pass of the file
    frames = receive_frames(proc, count, timeout=60 + count / rate_hz)
    indices = [frame_index(rgb) for _, rgb in frames]
    steps = [(b - a) % FRAMES for a, b in zip(indices, indices[1:])]
    # In file order, wrapping to the first frame after the last (loop); best effort may drop the odd frame.
    assert all(1 <= s <= 3 for s in steps), indices
    assert steps.count(1) >= 0.8 * len(steps), indices
    stamps = [stamp for stamp, _ in frames]
    per_step = [(t1 - t0) / s for t0, t1, s in zip(stamps, stamps[1:], steps)]
    assert statistics.median(per_step) == pytest.approx(1.0 / rate_hz, rel=0.25), per_step


def test_without_loop_the_node_publishes_every_frame_then_exits_0(processes, ros_env, tmp_path):
    video = tmp_path / "frames.avi"
    write_video(video)
    proc = camera(processes, ros_env, video, 40.0, loop=False)
    assert proc.wait(timeout=60) == 0, proc.output()
    match = re.search(r"end of the video file after (\d+) frames", proc.output())
    assert match and int(match.group(1)) == FRAMES, proc.output()
