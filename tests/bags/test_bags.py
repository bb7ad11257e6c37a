"""Bags written by BagWriter open with rosbags and with the independent mcap reader; splits, truncation,
repair and `v2p bag info` behave as documented."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import yaml
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from rosbags.typesys import Stores, get_typestore

from v2p.bags import BagError, BagWriter, bag_info, find_bags, make_qos, read_bag, repair_bag
from v2p.cli import main as cli_main

STORE = get_typestore(Stores.ROS2_KILTED)
FLOAT64 = "std_msgs/msg/Float64"
IMAGE = "sensor_msgs/msg/Image"


def cdr(msgtype: str, **fields) -> bytes:
    return bytes(STORE.serialize_cdr(STORE.types[msgtype](**fields), msgtype))


def image(width: int, height: int, seed: int) -> bytes:
    pixels = ((seed + 7 * i) % 256 for i in range(width * height * 3))
    header = STORE.types["std_msgs/msg/Header"](
        stamp=STORE.types["builtin_interfaces/msg/Time"](sec=seed, nanosec=0), frame_id="camera")
    msg = STORE.types[IMAGE](header=header, height=height, width=width, encoding="rgb8", is_bigendian=0,
                             step=3 * width, data=__import__("numpy").fromiter(pixels, dtype="uint8"))
    return bytes(STORE.serialize_cdr(msg, IMAGE))


def write_values(path, values, *, start_ns=1_000_000_000, step_ns=100_000_000, **kwargs) -> BagWriter:
    with BagWriter(path, **kwargs) as writer:
        writer.add_topic("/value", FLOAT64, [make_qos()])
        for i, v in enumerate(values):
            writer.write_raw("/value", start_ns + i * step_ns, cdr(FLOAT64, data=v))
    return writer


def test_roundtrip_rosbags_and_mcap_reader(tmp_path):
    with BagWriter(tmp_path / "rec") as writer:
        writer.add_topic("/value", FLOAT64, [make_qos()])
        writer.add_topic("/camera/image_raw", IMAGE, [make_qos(reliable=False, depth=5)])
        for i in range(10):
            writer.write_raw("/value", 2_000_000_000 + i * 1000, cdr(FLOAT64, data=i / 4))
            if i % 5 == 0:
                writer.write_raw("/camera/image_raw", 2_000_000_000 + i * 1000 + 1, image(4, 3, i))
    (bag,) = find_bags(tmp_path / "rec")
    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert meta["version"] == 9 and meta["storage_identifier"] == "mcap" and meta["message_count"] == 12
    hashes = {t["topic_metadata"]["name"]: t["topic_metadata"]["type_description_hash"]
              for t in meta["topics_with_message_count"]}
    assert hashes["/value"] == STORE.hash_rihs01(FLOAT64)

    msgs = list(read_bag(tmp_path / "rec"))
    assert [m.timestamp_ns for m in msgs] == sorted(m.timestamp_ns for m in msgs)
    assert [m.data.data for m in msgs if m.topic == "/value"] == [i / 4 for i in range(10)]
    first_image = next(m.data for m in msgs if m.topic == "/camera/image_raw")
    assert (first_image.width, first_image.height, first_image.encoding) == (4, 3, "rgb8")
    raw = next(read_bag(tmp_path / "rec", raw=True, topics=["/value"]))
    assert raw.data == cdr(FLOAT64, data=0.0)

    with (bag / f"{bag.name}.mcap").open("rb") as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        summary = reader.get_summary()
        decoded = [(channel.topic, msg) for _s, channel, _m, msg in reader.iter_decoded_messages()]
    assert summary.statistics.message_count == 12
    assert [m.data for topic, m in decoded if topic == "/value"] == [i / 4 for i in range(10)]
    assert [bytes(m.data)[:3] for topic, m in decoded if topic == "/camera/image_raw"][0] == bytes([0, 7, 14])


def test_split_by_duration_makes_complete_bags_read_in_order(tmp_path):
    values = [float(i) for i in range(35)]  # 3.4 s at 10 Hz
    writer = write_values(tmp_path / "rec", values, split_duration_s=1.0)
    assert len(writer.bags) == 4
    assert all((bag / "metadata.yaml").is_file() for bag in writer.bags)
    info = bag_info(tmp_path / "rec")
    assert info.message_count == 35 and len(info.files) == 4
    assert info.duration_ns == 34 * 100_000_000
    assert [m.data.data for m in read_bag(tmp_path / "rec")] == values
    assert [m.data.data for m in read_bag(writer.bags[1])] == values[10:20]


def test_a_split_closes_the_bag_at_once_and_the_next_message_opens_the_next(tmp_path):
    from v2p.bags.recording import QueuedBagRecorder

    recorder = QueuedBagRecorder(BagWriter(tmp_path / "rec"), queue_size=50)
    recorder.add_topic("/value", FLOAT64, (make_qos(),))
    recorder.start()
    for shift in range(3):
        for i in range(4):
            recorder.offer("/value", 10**9 + shift * 10**8 + i, cdr(FLOAT64, data=float(10 * shift + i)))
        recorder.split()
    recorder.split()  # nothing written since the last split: no empty bag
    deadline = time.monotonic() + 10
    while len(find_bags(tmp_path / "rec", complete_only=True)) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    bags = find_bags(tmp_path / "rec", complete_only=True)
    assert len(bags) == 3  # each closed (metadata.yaml written) while the recorder still runs
    assert [[m.data.data for m in read_bag(bag)] for bag in bags] == [[0.0, 1.0, 2.0, 3.0], [10.0, 11.0, 12.0, 13.0],
                                                                      [20.0, 21.0, 22.0, 23.0]]
    stats = recorder.stop()
    assert stats.bags == 3 and stats.total_written == 12 and stats.error is None


def test_split_by_size(tmp_path):
    with BagWriter(tmp_path / "rec", split_size_bytes=200_000, chunk_size_bytes=64 * 1024) as writer:
        writer.add_topic("/camera/image_raw", IMAGE)
        for i in range(10):
            writer.write_raw("/camera/image_raw", 10**9 + i, image(160, 120, i))  # ~57 KB each
    assert len(writer.bags) >= 2
    assert sum(1 for _ in read_bag(tmp_path / "rec")) == 10
    assert all(f.stat().st_size < 200_000 + 2 * 64 * 1024 for f in bag_info(tmp_path / "rec").files)


def test_writer_refuses_bad_use(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(BagError, match="not an empty folder"):
        BagWriter(tmp_path / "full")
    with BagWriter(tmp_path / "rec") as writer:
        with pytest.raises(BagError, match="not added"):
            writer.write_raw("/nope", 1, b"")
        with pytest.raises(BagError, match="no message definition"):
            writer.add_topic("/custom", "my_pkg/msg/Unknown")


def test_truncated_bag_is_an_error_naming_it_and_repair_keeps_complete_chunks(tmp_path):
    writer = write_values(tmp_path / "rec", [float(i) for i in range(400)], chunk_size_bytes=1024)
    mcap = writer.bags[0] / f"{writer.bags[0].name}.mcap"
    data = mcap.read_bytes()
    mcap.write_bytes(data[: len(data) // 2])
    with pytest.raises(BagError, match=str(writer.bags[0])):
        bag_info(tmp_path / "rec")
    with pytest.raises(BagError, match=str(writer.bags[0])):
        list(read_bag(tmp_path / "rec"))
    (result,) = repair_bag(tmp_path / "rec")
    recovered = [m.data.data for m in read_bag(tmp_path / "rec")]
    assert 0 < len(recovered) < 400 and recovered == [float(i) for i in range(len(recovered))]
    assert result.messages == len(recovered)
    assert repair_bag(tmp_path / "rec") == []  # now complete and readable


WRITER_SCRIPT = textwrap.dedent("""
    import sys, time
    from rosbags.typesys import Stores, get_typestore
    from v2p.bags import BagWriter, make_qos
    store = get_typestore(Stores.ROS2_KILTED)
    writer = BagWriter(sys.argv[1], chunk_size_bytes=1024)
    writer.add_topic("/value", "std_msgs/msg/Float64", [make_qos()])
    for i in range(100000):
        data = store.serialize_cdr(store.types["std_msgs/msg/Float64"](data=float(i)), "std_msgs/msg/Float64")
        writer.write_raw("/value", 10**9 + i, bytes(data))
        if i == 299:
            writer.flush()
            print("flushed", flush=True)
        if i >= 300:
            time.sleep(0.001)
""")


def test_sigkilled_writer_leaves_a_bag_repair_restores(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(tmp_path / "rec")],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "flushed"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with pytest.raises(BagError, match="incomplete bag .*v2p bag repair"):
        list(read_bag(tmp_path / "rec"))
    with pytest.raises(BagError, match="holds no complete rosbag2 bag"):
        list(read_bag(tmp_path / "rec", skip_incomplete=True))
    (result,) = repair_bag(tmp_path / "rec")
    values = [m.data.data for m in read_bag(tmp_path / "rec")]
    assert len(values) >= 300 and values == [float(i) for i in range(len(values))]
    bag = result.bag
    with (bag / f"{bag.name}.mcap").open("rb") as stream:
        reader = make_reader(stream, decoder_factories=[DecoderFactory()])
        assert sum(1 for _ in reader.iter_decoded_messages()) == len(values)


def test_bad_inputs_are_errors_naming_the_path(tmp_path):
    with pytest.raises(BagError, match="no such bag"):
        bag_info(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BagError, match="holds no complete rosbag2 bag"):
        bag_info(tmp_path / "empty")
    writer = write_values(tmp_path / "rec", [1.0])
    meta = writer.bags[0] / "metadata.yaml"
    meta.write_text("rosbag2_bagfile_information: [not, a, mapping")
    with pytest.raises(BagError, match="metadata.yaml"):
        bag_info(tmp_path / "rec")
    bogus = tmp_path / "bogus" / "b"
    bogus.mkdir(parents=True)
    (bogus / "b.mcap").write_bytes(b"this is not mcap at all")
    with pytest.raises(BagError, match="not an MCAP file"):
        repair_bag(bogus)


def test_cli_info_prints_like_ros2_bag_info(tmp_path, capsys):
    write_values(tmp_path / "rec", [1.0, 2.0, 3.0, 4.0, 5.0])
    assert cli_main(["bag", "info", str(tmp_path / "rec")]) == 0
    out = capsys.readouterr().out
    assert "Messages:          5" in out
    assert "Topic: /value | Type: std_msgs/msg/Float64 | Count: 5 | Serialization Format: cdr" in out
    assert "Duration:          0.400000000s" in out
    assert cli_main(["bag", "info", "--json", str(tmp_path / "rec")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["message_count"] == 5 and data["topics"][0]["count"] == 5
    assert cli_main(["bag", "info", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: no such bag" in capsys.readouterr().err
