"""recorder_node on a private ROS domain: what it records opens with rosbags and with the independent mcap
reader; SIGINT/SIGTERM close the bag; after SIGKILL `repair` recovers every message flushed; `play` republishes.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory

from v2p.bags import BagError, BagWriter, bag_info, make_qos, read_bag, repair_bag

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Float64  # noqa: E402

from v2p_ros.common import numpy_to_image, reliable_qos, sensor_qos  # noqa: E402

VALUE_TOPIC = "/v2p_test/value"
IMAGE_TOPIC = "/v2p_test/image"


def recorder_argv(record_dir: Path, *params: str) -> list[str]:
    argv = [sys.executable, "-m", "v2p_ros.recorder_node", "--ros-args",
            "-p", f"record_dir:={record_dir}", "-p", "bag_name:=rec", "-p", "discovery_interval_s:=0.2"]
    for param in params:
        argv += ["-p", param]
    return argv


class Graph:
    """An rclpy context and node owned by the test process."""

    def __init__(self) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = Node("v2p_test_driver", context=self.context)

    @staticmethod
    def wait_until(predicate, timeout: float = 30.0) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "condition not met in time"
            time.sleep(0.05)

    def close(self) -> None:
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


@pytest.fixture
def graph(ros_env: dict[str, str]):
    g = Graph()
    yield g
    g.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_records_what_is_published_and_closes_on_signal(tmp_path, graph, processes, stop_signal):
    recorder = processes.start(recorder_argv(tmp_path, f"topics:=[{VALUE_TOPIC}, {IMAGE_TOPIC}]"), "recorder")
    values_pub = graph.node.create_publisher(Float64, VALUE_TOPIC, reliable_qos(100))
    image_pub = graph.node.create_publisher(Image, IMAGE_TOPIC, sensor_qos())
    graph.wait_until(lambda: values_pub.get_subscription_count() >= 1 and image_pub.get_subscription_count() >= 1)
    sent = [float(i) * 0.5 for i in range(40)]
    for value in sent:
        values_pub.publish(Float64(data=value))
        time.sleep(0.005)
    frame = np.arange(48 * 64 * 3, dtype=np.uint32).astype(np.uint8).reshape(48, 64, 3)
    for _ in range(5):
        image_pub.publish(numpy_to_image(frame, graph.node.get_clock().now().to_msg(), "camera"))
        time.sleep(0.02)
    type_hash = str(graph.node.get_publishers_info_by_topic(VALUE_TOPIC)[0].topic_type_hash)
    processes.wait_for_output(recorder, f"recording {IMAGE_TOPIC}")
    time.sleep(1.0)  # reliable delivery of the last values
    assert processes.stop(recorder, stop_signal) == 0, recorder.output()
    assert "dropped 0 (queue full), lost 0" in recorder.output()

    recording = tmp_path / "rec"
    info = bag_info(recording)
    counts = {t.name: t.message_count for t in info.topics}
    assert counts[VALUE_TOPIC] == len(sent)
    assert 1 <= counts[IMAGE_TOPIC] <= 5  # best effort: frames may be dropped on the wire, never invented

    # rosbags: values and images decode to what was sent, in order.
    messages = list(read_bag(recording))
    assert [m.data.data for m in messages if m.topic == VALUE_TOPIC] == sent
    images = [m.data for m in messages if m.topic == IMAGE_TOPIC]
    assert all(img.encoding == "rgb8" and img.width == 64 and img.height == 48 for img in images)
    assert np.array_equal(np.asarray(images[0].data).reshape(48, 64, 3), frame)

    # The independent mcap reader and mcap-ros2 decoder read the same file.
    (mcap_file,) = info.files
    with mcap_file.open("rb") as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        decoded = [(ch.topic, schema.name, msg) for schema, ch, _raw, msg in reader.iter_decoded_messages()]
    assert [m.data for topic, _, m in decoded if topic == VALUE_TOPIC] == sent
    assert {name for _, name, _ in decoded} == {"std_msgs/msg/Float64", "sensor_msgs/msg/Image"}

    # The message definition's hash in metadata.yaml is the one the publisher announced on the graph.
    assert type_hash in (info.bags[0] / "metadata.yaml").read_text()


def test_sigkill_leaves_a_bag_that_repair_recovers(tmp_path, graph, processes):
    recorder = processes.start(
        recorder_argv(tmp_path, f"topics:=[{VALUE_TOPIC}]", "flush_interval_s:=0.1", "chunk_size_kb:=1"), "recorder")
    pub = graph.node.create_publisher(Float64, VALUE_TOPIC, reliable_qos(100))
    graph.wait_until(lambda: pub.get_subscription_count() >= 1)
    processes.wait_for_output(recorder, f"recording {VALUE_TOPIC}")
    sent = [float(i) for i in range(100)]
    for value in sent:
        pub.publish(Float64(data=value))
        time.sleep(0.002)
    time.sleep(1.5)  # many flush intervals: every message sent is in a complete chunk on disk
    assert processes.stop(recorder, signal.SIGKILL) == -signal.SIGKILL

    recording = tmp_path / "rec"
    with pytest.raises(BagError, match="repair"):
        list(read_bag(recording))
    (result,) = repair_bag(recording)
    assert result.messages == len(sent)
    assert [m.data.data for m in read_bag(recording)] == sent
    with (result.bag / f"{result.bag.name}.mcap").open("rb") as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        assert [msg.data for *_, msg in reader.iter_decoded_messages()] == sent
    assert all(p.exists() for p in result.originals)  # the damaged file is kept


def test_recorder_refuses_a_record_dir_that_is_a_file(tmp_path, ros_env, processes):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    recorder = processes.start(recorder_argv(not_a_folder), "recorder")
    assert recorder.wait(timeout=30) == 2  # a bad parameter, as for every node (spin_node)
    assert f"parameter record_dir: {not_a_folder} exists and is not a folder" in recorder.output()


def test_play_republishes_recorded_bytes_with_clock(tmp_path, graph):
    from rosbags.typesys import Stores, get_typestore

    from v2p.bags.play import play_bag

    store = get_typestore(Stores.ROS2_KILTED)
    sent = [1.5 * i for i in range(20)]
    start_ns = 5_000_000_000
    with BagWriter(tmp_path / "bag") as writer:
        writer.add_topic(VALUE_TOPIC, "std_msgs/msg/Float64", [make_qos(depth=100)])
        for i, value in enumerate(sent):
            data = store.serialize_cdr(store.types["std_msgs/msg/Float64"](data=value), "std_msgs/msg/Float64")
            writer.write_raw(VALUE_TOPIC, start_ns + i * 10_000_000, bytes(data))

    from rosgraph_msgs.msg import Clock

    received: list[float] = []
    clock_ns: list[int] = []
    graph.node.create_subscription(Float64, VALUE_TOPIC, lambda m: received.append(m.data), reliable_qos(100))
    graph.node.create_subscription(Clock, "/clock", lambda m: clock_ns.append(m.clock.sec * 10**9 + m.clock.nanosec),
                                   reliable_qos(100))
    result = {}
    player = threading.Thread(target=lambda: result.update(r=play_bag(tmp_path / "bag", clock_hz=100.0, delay_s=2.5)))
    player.start()
    executor = SingleThreadedExecutor(context=graph.context)
    executor.add_node(graph.node)
    deadline = time.monotonic() + 30
    while (player.is_alive() or len(received) < len(sent)) and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    player.join()
    assert result["r"].published == len(sent)
    assert received == sent
    assert clock_ns and all(start_ns <= t <= start_ns + 19 * 10_000_000 for t in clock_ns)
