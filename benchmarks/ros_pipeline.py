"""ROS 2 pipeline benchmarks, measured side by side in one run (not tests: figures, not pass/fail).

Sections (run all, or pick with --sections):
- recorder: recorder_node records 640x480 rgb8 images published best effort (sensor-data QoS) at 30 Hz from a
  plain rclpy publisher; prints published / recorded / dropped and the BagWriter's own write throughput against the
  stream's data rate (headroom ratio). recorder_reliable: the same with a reliable publisher.
- bare: a plain rclpy publisher process streams 640x480 rgb8 best effort at 30 Hz to a plain rclpy subscriber
  here; prints published / received (target: >= 99% in both best-effort sections).
- hop: publish-to-callback latency of 640x480 rgb8 images camera_node -> encoder_node against a bare rclpy
  publisher/subscriber of the same messages (ratio of medians; target <= 1.2x).
- lockstep: control steps per second of sim_node + encoder_node + policy_node in lockstep against the same
  components called in one process (ratio).

Runs on a private ROS_DOMAIN_ID with logs in a temp folder, every process on the project's Fast DDS profile
(config/fastdds.xml); `--fastdds large_data` runs on Fast DDS's LARGE_DATA builtin transports instead (the
configuration before the profile), for the comparison:
    .venv/bin/python benchmarks/ros_pipeline.py [--sections recorder bare] [--seconds 10] [--fastdds large_data]
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


FASTDDS_PROFILE = Path(__file__).resolve().parents[1] / "config" / "fastdds.xml"


def _ros_environment(workdir: Path, fastdds: str) -> None:
    os.environ.setdefault("ROS_DOMAIN_ID", str(1 + os.getpid() % 100))
    os.environ.setdefault("ROS_LOG_DIR", str(workdir / "ros_log"))
    os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    if fastdds == "profile":
        os.environ.pop("FASTDDS_BUILTIN_TRANSPORTS", None)
        os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = str(FASTDDS_PROFILE)
    else:
        os.environ.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
        os.environ["FASTDDS_BUILTIN_TRANSPORTS"] = "LARGE_DATA"


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
    final = next((line for line in reversed(log_path.read_text().splitlines()) if "(middleware)" in line),
                 "no summary line in the recorder's log")
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
    parser.add_argument("--fastdds", choices=("profile", "large_data"), default="profile",
                        help="the transports: config/fastdds.xml, or Fast DDS's LARGE_DATA builtin transports")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="v2p_bench_") as tmp:
        workdir = Path(tmp)
        _ros_environment(workdir, args.fastdds)
        print(f"Fast DDS: {FASTDDS_PROFILE if args.fastdds == 'profile' else 'FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA'}")
        for name in args.sections:
            (workdir / name).mkdir()
            SECTIONS[name](workdir / name, args.seconds)
    return 0


# ---- node graph sections (camera -> encoder hop, lockstep control rate) ----------------------------------------

HOP_FRAMES = 8  # distinct 640x480 frames cycled through by both publishers


def _percentiles(values: list[float]) -> str:
    arr = np.asarray(values)
    return f"median {np.median(arr):.2f} ms, p90 {np.percentile(arr, 90):.2f} ms"


def _bare_publisher_script(topic: str, frames: int = 0) -> str:
    """A bare rclpy publisher process: the same Image messages, built and stamped the way camera_node does, at
    30 Hz until interrupted (like camera_node's looping file source), or `frames` of them once a subscriber
    matched (then it prints "published N at R Hz")."""
    return f"""
import time, numpy as np, rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from sensor_msgs.msg import Image
from v2p_ros.common import numpy_to_image, sensor_qos
rclpy.init()
node = Node("bare_camera")
pub = node.create_publisher(Image, "{topic}", sensor_qos())
rng = np.random.default_rng(0)
frames = [rng.integers(0, 256, ({HEIGHT}, {WIDTH}, 3), dtype=np.uint8) for _ in range({HOP_FRAMES})]
while {frames} and pub.get_subscription_count() < 1:
    time.sleep(0.05)
time.sleep(0.5 if {frames} else 0.0)  # the match is seen by both sides
start, i = time.monotonic(), 0
try:
    while rclpy.ok() and (not {frames} or i < {frames}):
        time.sleep(max(0.0, start + i / {RATE_HZ} - time.monotonic()))
        pub.publish(numpy_to_image(frames[i % {HOP_FRAMES}], node.get_clock().now().to_msg(), "camera"))
        i += 1
except (KeyboardInterrupt, ExternalShutdownException):
    pass
if {frames}:
    print(f"published {{i}} at {{i / (time.monotonic() - start):.2f}} Hz", flush=True)
"""


def _write_video(path: Path, frames: int) -> None:
    import cv2

    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), RATE_HZ, (WIDTH, HEIGHT))
    for i in range(frames):
        writer.write(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8))
    writer.release()


def _stamp_ns(msg) -> int:  # noqa: ANN001
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def _spin_until(executor, done: Callable[[], bool], timeout: float) -> float:  # noqa: ANN001
    """Spin until `done()` or `timeout`; returns the seconds spent."""
    start = time.monotonic()
    while not done() and time.monotonic() < start + timeout:
        executor.spin_once(timeout_sec=0.05)
    return time.monotonic() - start


def _bare_hop(frames: int, seconds: float, rates: list[float]) -> list[float]:
    """Latencies (ms) of `frames` Images from a bare rclpy publisher process to a bare subscriber here."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from sensor_msgs.msg import Image

    from v2p_ros.common import sensor_qos

    context = rclpy.Context()
    rclpy.init(context=context)
    bare = Node("bare_encoder", context=context)
    arrivals: list[float] = []
    bare.create_subscription(Image, "/bench/bare_image",
                             lambda m: arrivals.append((time.time_ns() - _stamp_ns(m)) / 1e6), sensor_qos())
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(bare)
    sender = subprocess.Popen([sys.executable, "-c", _bare_publisher_script("/bench/bare_image")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:  # the same protocol as the nodes below: 15 frames of discovery and warm-up, then `frames` measured
        _spin_until(executor, lambda: len(arrivals) >= 15, 90)
        arrivals.clear()
        elapsed = _spin_until(executor, lambda: len(arrivals) >= frames, seconds + 30)
        rates.append(len(arrivals) / elapsed)
    finally:
        os.killpg(sender.pid, signal.SIGINT)
        sender.wait(timeout=60)
    executor.shutdown()
    bare.destroy_node()
    rclpy.shutdown(context=context)
    return arrivals


def hop_section(workdir: Path, seconds: float) -> None:
    """camera_node (file source, 640x480 at 30 Hz) -> encoder_node (video): publish-to-callback latency of each
    frame, against a bare rclpy publisher and subscriber of the same Image messages. Both receivers run in this
    process; both senders are separate processes; sensor-data QoS on both."""
    import rclpy
    import torch
    from rclpy.executors import SingleThreadedExecutor
    from sensor_msgs.msg import Image

    from v2p_ros.encoder_node import EncoderNode

    torch.set_num_threads(1)
    frames = int(seconds * RATE_HZ)
    results: dict[str, list[float]] = {}
    rates: dict[str, float] = {}

    # bare rclpy, before and after the nodes (the machine's load drifts): the better run is the reference
    bare_rates: list[float] = []
    results["bare rclpy pub/sub (before)"] = _bare_hop(frames, seconds, bare_rates)

    # the nodes: camera_node process -> encoder_node here (its image callback, timed on entry)
    video = workdir / "clip.avi"
    _write_video(video, HOP_FRAMES)
    hops: list[float] = []

    class TimedEncoder(EncoderNode):
        def on_image(self, msg: Image) -> None:
            hops.append((time.time_ns() - _stamp_ns(msg)) / 1e6)
            super().on_image(msg)

    rclpy.init(args=["--ros-args", "-p", "encoder:=video", "-p", "mode:=realtime"])  # the node's default context
    encoder = TimedEncoder()
    executor = SingleThreadedExecutor()
    executor.add_node(encoder)
    with (workdir / "camera.log").open("wb") as log:
        camera = subprocess.Popen(
            [sys.executable, "-m", "v2p_ros.camera_node", "--ros-args", "-p", "source:=file", "-p", f"file:={video}",
             "-p", "loop:=true", "-p", f"rate_hz:={RATE_HZ}"], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        _spin_until(executor, lambda: len(hops) >= 15, 90)  # discovery and warm-up
        hops.clear()
        elapsed = _spin_until(executor, lambda: len(hops) >= frames, seconds + 30)
        rates["camera_node -> encoder_node"] = len(hops) / elapsed
    finally:
        os.killpg(camera.pid, signal.SIGINT)
        camera.wait(timeout=60)
        executor.shutdown()
        encoder.destroy_node()
        rclpy.shutdown()
    results["camera_node -> encoder_node"] = hops
    results["bare rclpy pub/sub (after)"] = _bare_hop(frames, seconds, bare_rates)
    rates["bare rclpy pub/sub (before)"], rates["bare rclpy pub/sub (after)"] = bare_rates

    for name, values in results.items():
        print(f"hop {WIDTH}x{HEIGHT} rgb8 sent at {RATE_HZ:g} Hz, {name}: {len(values)} frames received at "
              f"{rates[name]:.1f} Hz, {_percentiles(values)}")
    bare = min(np.median(results["bare rclpy pub/sub (before)"]), np.median(results["bare rclpy pub/sub (after)"]))
    ratio = np.median(results["camera_node -> encoder_node"]) / bare
    print(f"hop: camera_node -> encoder_node / bare rclpy = {ratio:.2f}x median latency (target <= 1.2x)")


def lockstep_section(workdir: Path, seconds: float) -> None:
    """Lockstep control steps per second: sim_node + encoder_node (mlp) + policy_node over DDS, against the same
    components (Workcell, MLP encoder, SAC actor) called in one process, over the same seeded shifts."""
    import rclpy
    import torch
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from std_msgs.msg import Float32MultiArray

    from v2p.encoders import make_encoder
    from v2p_ros.common import reliable_qos
    from v2p_ros.policy_node import fresh_actor
    from v2p.task.dishwashing import STATE
    from v2p_sim.workcell import Workcell

    torch.set_num_threads(1)
    shifts, shift_hours, seed = 4, 0.05, 0

    def one_process() -> tuple[int, float]:
        """state -> encoder -> actor -> cycle in this process; steps/s over the same span the graph is timed on
        (first state to last state)."""
        torch.manual_seed(seed)
        encoder = make_encoder("mlp", state_dim=STATE.dim).eval()
        actor = fresh_actor(128, seed)
        cell = Workcell("default", seed, render_size=64)
        cell.shift_hours = shift_hours
        states: list[float] = []
        for shift in range(shifts):
            cell.reset(seed + shift)
            while not cell.shift_done:
                states.append(time.perf_counter())
                with torch.inference_mode():
                    latent = encoder(torch.from_numpy(cell.state_vector()).unsqueeze(0))
                    speed, care = actor.act(latent, True)[0].tolist()
                cell.run_cycle(speed, care)
        cell.close()
        return len(states), (len(states) - 1) / (states[-1] - states[0])

    steps, direct_rate = one_process()

    # the graph: three processes, lockstep over DDS
    context = rclpy.Context()
    rclpy.init(context=context)
    bench = Node("bench_lockstep", context=context)
    arrivals: list[float] = []
    bench.create_subscription(Float32MultiArray, "/sim/state", lambda m: arrivals.append(time.perf_counter()),
                              reliable_qos(10))
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(bench)
    procs = []
    for name, params in (("encoder_node", ["encoder:=mlp", f"seed:={seed}"]), ("policy_node", [f"seed:={seed}"]),
                         ("sim_node", [f"episodes:={shifts}", f"shift_hours:={shift_hours}", f"seed:={seed}",
                                       "render:=false", 'await_subscribers:=["/sim/state:2", "/encoder/latent:1"]'])):
        argv = [sys.executable, "-m", f"v2p_ros.{name}", "--ros-args"] + [x for p in params for x in ("-p", p)]
        with (workdir / f"{name}.log").open("wb") as log:
            procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    sim = procs[-1]
    try:
        _spin_until(executor, lambda: sim.poll() is not None, 300)
    finally:
        for proc in procs[:-1]:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)
        executor.shutdown()
        bench.destroy_node()
        rclpy.shutdown(context=context)
    ros_rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])  # first to last state: start-up excluded
    direct_rate = max(direct_rate, one_process()[1])  # the one-process figure is the better of two runs
    print(f"lockstep: {shifts} shifts of {shift_hours} h; in one process {steps} steps at {direct_rate:.2f} steps/s "
          "(best of two runs)")
    print(f"lockstep: sim_node + encoder_node + policy_node: {len(arrivals)} steps at {ros_rate:.2f} steps/s "
          f"(sim exit {sim.returncode})")
    print(f"lockstep: graph / one process = {ros_rate / direct_rate:.2f}x control steps per second")


def bare_section(workdir: Path, seconds: float) -> None:
    """A plain rclpy publisher process -> a plain rclpy subscriber here, best effort (sensor-data QoS), 640x480 rgb8
    at 30 Hz: how many of the published frames arrive, and how many the middleware reports lost."""
    import rclpy
    from rclpy.event_handler import SubscriptionEventCallbacks
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from sensor_msgs.msg import Image

    from v2p_ros.common import sensor_qos

    frames = int(seconds * RATE_HZ)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("bare_subscriber", context=context)
    received: list[int] = []
    lost = [0]
    events = SubscriptionEventCallbacks(message_lost=lambda info: lost.__setitem__(0, lost[0] + info.total_count_change))
    node.create_subscription(Image, "/bench/bare_stream", lambda m: received.append(1), sensor_qos(),
                             event_callbacks=events)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    log_path = workdir / "publisher.log"
    with log_path.open("wb") as log:
        sender = subprocess.Popen([sys.executable, "-c", _bare_publisher_script("/bench/bare_stream", frames)],
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _spin_until(executor, lambda: sender.poll() is not None, seconds + 120)
        _spin_until(executor, lambda: False, 1.0)  # the last frames
    finally:
        if sender.poll() is None:
            os.killpg(sender.pid, signal.SIGINT)
        sender.wait(timeout=60)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)
    published = next((line for line in log_path.read_text().splitlines() if line.startswith("published ")), None)
    if published is None:
        raise RuntimeError(f"the publisher did not finish:\n{log_path.read_text()}")
    count, rate = int(published.split()[1]), float(published.split()[3])
    print(f"bare (sensor-data (best effort) QoS): {count} frames of {WIDTH}x{HEIGHT} rgb8 published at {rate:.1f} Hz, "
          f"{len(received)} received ({100.0 * len(received) / max(count, 1):.2f}%), {lost[0]} reported lost by the "
          "middleware")


SECTIONS.update({"hop": hop_section, "lockstep": lockstep_section, "bare": bare_section})


if __name__ == "__main__":
    sys.exit(main())
