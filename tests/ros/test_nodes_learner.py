"""learner_node on a private ROS domain: trains on the closed bags of its folder, skips a corrupt one naming it,
announces each checkpoint version on /learner/checkpoint (transient-local), trains again when a new bag closes,
and resumes from its newest version after a restart."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from std_msgs.msg import String  # noqa: E402

from node_harness import Driver, node_argv, wait_until, write_lockstep_recording  # noqa: E402
from v2p.learning.announcement import parse  # noqa: E402
from v2p.learning.versions import content_hash  # noqa: E402
from v2p_ros.common import latched_qos  # noqa: E402


def test_learner_trains_on_closed_bags_skips_a_corrupt_one_and_announces(driver, processes, tmp_path):
    from v2p.rl import load_actor

    record = tmp_path / "bags"
    write_lockstep_recording(record / "run_a", episodes=2, steps=3, seed=1)
    bad = write_lockstep_recording(record / "run_b", episodes=1, steps=3, seed=2)
    mcap = next(bad.glob("*.mcap"))
    mcap.write_bytes(mcap.read_bytes()[:300])
    announced = driver.subscribe(String, "/learner/checkpoint", latched_qos())
    argv = node_argv("learner_node", f"record_dir:={record}", f"checkpoint:={tmp_path / 'ckpt'}", "observation:=latent",
                     "updates_per_transition:=1.0", "updates_per_round:=1000", "batch_size:=4",
                     "poll_period_s:=0.2")
    node = processes.start(argv, "learner")
    wait_until(lambda: len(announced) >= 1, 90.0, "a checkpoint announcement")
    announcement = parse(announced[0].data)  # path, content hash, what it trained on
    first = Path(announcement.path)
    assert first.parent == tmp_path / "ckpt" and first.name == "update_000000006"  # 2 episodes x 3 steps, ratio 1
    assert announcement.sha256 == content_hash(first) and (announcement.episodes, announcement.bags) == (2, 1)
    _, meta = load_actor(first)
    assert [Path(b).parent.name for b in meta["extra"]["bags"]] == ["run_a"]
    assert f"skipping bag {bad}" in node.output()

    write_lockstep_recording(record / "run_c", episodes=1, steps=4, seed=3)  # a bag closes while it watches
    wait_until(lambda: len(announced) >= 2, 60.0, "a second announcement")
    assert Path(parse(announced[1].data).path).name == "update_000000010"  # + 4 steps
    assert (parse(announced[1].data).episodes, parse(announced[1].data).bags) == (3, 2)
    assert processes.stop(node, signal.SIGINT) == 0
    assert "Traceback" not in node.output()

    # restarted: resumes from its newest version, re-announces it, trains on nothing it has seen
    late = Driver("late_policy")
    try:
        again = late.subscribe(String, "/learner/checkpoint", latched_qos())
        node = processes.start(argv, "learner2")
        wait_until(lambda: len(again) >= 1, 90.0, "the resumed announcement")
        assert again[0].data == announced[1].data  # the same version, hash and counts
        assert late.quiet("/learner/checkpoint", 1.0) == 0
        assert "resumed from" in node.output()
        assert processes.stop(node, signal.SIGTERM) == 0
    finally:
        late.close()
