"""The recorder core counts every message it cannot write instead of blocking or losing it silently."""

from rosbags.typesys import Stores, get_typestore

from v2p.bags import BagWriter, read_bag
from v2p.bags.recording import QueuedBagRecorder

STORE = get_typestore(Stores.ROS2_KILTED)


def value(v: float) -> bytes:
    return bytes(STORE.serialize_cdr(STORE.types["std_msgs/msg/Float64"](data=v), "std_msgs/msg/Float64"))


def test_full_queue_drops_and_counts(tmp_path):
    recorder = QueuedBagRecorder(BagWriter(tmp_path / "rec"), queue_size=5)
    recorder.add_topic("/v", "std_msgs/msg/Float64")
    accepted = [recorder.offer("/v", 10 + i, value(i)) for i in range(8)]  # writer thread not started: queue fills
    assert accepted == [True] * 5 + [False] * 3
    recorder.note_lost("/v", 2)
    stats = recorder.stop()
    assert stats.received == {"/v": 8} and stats.written == {"/v": 5} and stats.dropped == {"/v": 3}
    assert stats.total_dropped == 5 and stats.error is None
    assert [m.data.data for m in read_bag(tmp_path / "rec")] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_writer_thread_writes_everything_offered(tmp_path):
    recorder = QueuedBagRecorder(BagWriter(tmp_path / "rec"), queue_size=10_000, flush_interval_s=0.05)
    recorder.add_topic("/v", "std_msgs/msg/Float64")
    recorder.start()
    for i in range(500):
        assert recorder.offer("/v", 100 + i, value(i))
    stats = recorder.stop()
    assert stats.written == {"/v": 500} and stats.total_dropped == 0
    assert recorder.offer("/v", 1, value(0)) is False  # after stop: counted, not written
    assert len(list(read_bag(tmp_path / "rec"))) == 500


def test_write_error_is_reported_not_raised(tmp_path):
    recorder = QueuedBagRecorder(BagWriter(tmp_path / "rec"), queue_size=10)
    recorder.offer("/never_added", 1, value(1.0))
    stats = recorder.stop()
    assert stats.error is not None and "/never_added" in stats.error
    assert stats.dropped == {"/never_added": 1}
