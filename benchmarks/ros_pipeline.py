"""ROS 2 pipeline benchmarks, measured side by side in one run (not tests: figures, not pass/fail).

Sections (run all, or pick with --sections):
- recorder: recorder_node records 640x480 rgb8 images published at 30 Hz; prints published / recorded / dropped
  and the BagWriter's own write throughput against the stream's data rate (headroom ratio).

Runs on a private ROS_DOMAIN_ID with logs in a temp folder:
    .venv/bin/python benchmarks/ros_pipeline.py [--sections recorder] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

WIDTH, HEIGHT, RATE_HZ = 640, 480, 30.0
IMAGE_TOPIC = "/camera/image_raw"


def _ros_environment(workdir: Path) -> None:
    os.environ.setdefault("ROS_DOMAIN_ID", str(1 + os.getpid() % 100))
    os.environ.setdefault("ROS_LOG_DIR", str(workdir / "ros_log"))
    os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    os.environ.setdefault("FASTDDS_BUILTIN_TRANSPORTS", "LARGE_DATA")
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")


def _frames(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8) for _ in range(count)]


def _writer_throughput(workdir: Path, frames: int) -> float:
    """Bytes per second BagWriter sustains for 640x480 rgb8 Image messages, alone in this process."""
    from rosbags.typesys import Stores, get_typestore

    from v2p.bags import BagWriter

    store = get_typestore(Stores.ROS2_KILTED)
    image = store.types["sensor_msgs/msg/Image"](
        header=store.types["std_msgs/msg/Header"](
            stamp=store.types["builtin_interfaces/msg/Time"](sec=0, nanosec=0), frame_id="camera"),
        height=HEIGHT, width=WIDTH, encoding="rgb8", is_bigendian=0, step=3 * WIDTH, data=_frames(1)[0].reshape(-1))
    data = bytes(store.serialize_cdr(image, "sensor_msgs/msg/Image"))
    start = time.perf_counter()
    with BagWriter(workdir / "writer_only") as writer:
        writer.add_topic(IMAGE_TOPIC, "sensor_msgs/msg/Image")
        for i in range(frames):
            writer.write_raw(IMAGE_TOPIC, 10**9 + i, data)
    return frames * len(data) / (time.perf_counter() - start)


def recorder_section(workdir: Path, seconds: float, reliable: bool = False) -> None:
    import rclpy
    from rclpy.node import Node
    from sensor_msgs.msg import Image

    from v2p.bags import bag_info
    from v2p_ros.common import numpy_to_image, reliable_qos, sensor_qos

    record_dir = workdir / "bags"
    log_path = workdir / "recorder.log"
    with log_path.open("wb") as log:
        recorder = subprocess.Popen(
            [sys.executable, "-m", "v2p_ros.recorder_node", "--ros-args", "-p", f"record_dir:={record_dir}",
             "-p", "bag_name:=bench", "-p", f"topics:=[{IMAGE_TOPIC}]", "-p", "discovery_interval_s:=0.2"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("bench_camera", context=context)
    published = 0
    qos = reliable_qos(10) if reliable else sensor_qos()
    try:
        pub = node.create_publisher(Image, IMAGE_TOPIC, qos)
        deadline = time.monotonic() + 60
        while pub.get_subscription_count() < 1:
            if time.monotonic() > deadline or recorder.poll() is not None:
                raise RuntimeError(f"recorder did not subscribe:\n{log_path.read_text()}")
            time.sleep(0.05)
        frames = _frames(8)
        period = 1.0 / RATE_HZ
        start = time.monotonic()
        total = int(seconds * RATE_HZ)
        for i in range(total):
            due = start + i * period
            time.sleep(max(0.0, due - time.monotonic()))
            pub.publish(numpy_to_image(frames[i % len(frames)], node.get_clock().now().to_msg(), "camera"))
            published += 1
        publish_s = time.monotonic() - start
        time.sleep(1.0)  # let the last frames arrive
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)
        os.killpg(recorder.pid, signal.SIGINT)
        recorder.wait(timeout=60)
    final = next(line for line in reversed(log_path.read_text().splitlines()) if ".final]" in line)
    info = bag_info(record_dir / "bench")
    recorded = sum(t.message_count for t in info.topics if t.name == IMAGE_TOPIC)
    frame_bytes = WIDTH * HEIGHT * 3
    stream_rate = frame_bytes * RATE_HZ
    writer_rate = _writer_throughput(workdir, 150)
    print(f"recorder ({'reliable' if reliable else 'sensor-data (best effort)'} QoS): {published} frames of {WIDTH}x{HEIGHT} rgb8 published at {published / publish_s:.1f} Hz "
          f"for {publish_s:.1f} s ({stream_rate / 1e6:.1f} MB/s)")
    print(f"recorder: recorded {recorded}, missing {published - recorded} "
          f"({100.0 * (published - recorded) / max(published, 1):.2f}%); bag {info.size_bytes / 1e6:.1f} MB, "
          f"exit code {recorder.returncode}")
    print(f"recorder: node's own figures: {final.split(': ', 1)[-1]}")
    print(f"recorder: BagWriter alone writes {writer_rate / 1e6:.1f} MB/s = {writer_rate / stream_rate:.1f}x the "
          "30 Hz 640x480 stream")


SECTIONS: dict[str, Callable[[Path, float], None]] = {
    "recorder": recorder_section,
    "recorder_reliable": lambda workdir, seconds: recorder_section(workdir, seconds, reliable=True),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", nargs="+", choices=sorted(SECTIONS), default=sorted(SECTIONS))
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each streamed run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="v2p_bench_") as tmp:
        workdir = Path(tmp)
        _ros_environment(workdir)
        for name in args.sections:
            (workdir / name).mkdir()
            SECTIONS[name](workdir / name, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
