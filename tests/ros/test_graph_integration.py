"""The issue's acceptance run, with real rclpy on a private domain: `v2p launch launch/sim.launch.yaml` runs two
shifts and shuts the graph down; the bag opens with rosbags and with mcap + mcap_ros2, holds every topic with
counts that fit the run, and its econ figures are the core's figures for its events; the learner
(train_from_bags.launch.yaml) trains on it and announces a checkpoint, which a running policy node hot-reloads,
its next action being the new actor's; no process is left."""

from __future__ import annotations

import math
import os
import re
import signal
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from v2p.launch import load_launch

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from std_msgs.msg import Float32MultiArray, String  # noqa: E402

from node_harness import Driver, node_argv, wait_until  # noqa: E402
from v2p.learning.announcement import parse  # noqa: E402
from v2p_ros.common import float_array, latched_qos, reliable_qos  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
V2P = [sys.executable, "-m", "v2p.cli"]
TOPICS = ["/clock", "/sim/state", "/sim/events", "/sim/camera/image", "/camera/image_raw", "/camera/camera_info",
          "/encoder/latent", "/policy/action", "/policy/checkpoint", "/econ/mp", "/econ/error_rate", "/econ/lambda",
          "/econ/spread", "/econ/wage_parity", "/econ/profit", "/econ/s_cust", "/econ/summary"]


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def mcap_topic_counts(bag: Path) -> Counter:
    """Messages per topic, every one decoded by the independent mcap + mcap_ros2 reader."""
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    counts: Counter = Counter()
    for path in sorted(bag.glob("*.mcap")):
        with path.open("rb") as f:
            for _schema, channel, _message, decoded in make_reader(
                    f, decoder_factories=[DecoderFactory()]).iter_decoded_messages():
                assert decoded is not None
                counts[channel.topic] += 1
    return counts


def run_sim_launch(processes, record: Path, shift_hours: float, run_dir: Path) -> None:
    """`v2p launch launch/sim.launch.yaml` for two shifts; it must end by itself, cleanly, leaving no process."""
    launch = processes.start(V2P + ["launch", str(REPO / "launch/sim.launch.yaml"), "episodes:=2",
                                    f"shift_hours:={shift_hours}", f"record_dir:={record}", "bag_name:=run",
                                    "split_s:=0.0", "camera_rate_hz:=2.0", "seed:=1", "first_episode:=10",
                                    f"run_dir:={run_dir}"], "sim_launch")
    assert launch.wait(timeout=240) == 0, launch.output()
    wait_until(lambda: group_gone(launch.pid), 10.0, "every launched process gone")
    log = launch.output()
    assert "Traceback" not in log and "still running after SIGINT" not in log, log
    started = len(load_launch(REPO / "launch/sim.launch.yaml").processes)  # sim, camera, …, viz (no foxglove)
    assert started == 8 and log.count("process has finished cleanly") == started, log


def check_recording(record: Path, run_dir: Path) -> tuple[Path, int]:
    """The bag holds every topic with counts that fit the run, opens with rosbags and with mcap + mcap_ros2, and
    its episode figures (recorded, and in the run's books) are the economics core's for its events.
    Returns (bag, control steps)."""
    from v2p.bags import bag_info, read_bag
    from v2p.economics.accounts import CSV_NAME, read_episode_csv
    from v2p.config import load_economics_config
    from v2p.economics.monitor import EconomicsMonitor
    from v2p.task.dishwashing import EVENTS
    from v2p.task.events import SimEvent

    info = bag_info(record / "run")
    counts = {t.name: t.message_count for t in info.topics}
    assert set(TOPICS) <= set(counts), sorted(set(TOPICS) - set(counts))
    (bag,) = info.bags
    assert mcap_topic_counts(bag) == Counter({k: v for k, v in counts.items() if v})
    events = [SimEvent.from_array(m.data.data.tolist(), EVENTS) for m in read_bag(record / "run", topics=["/sim/events"])]
    kinds = Counter(e.kind for e in events)
    assert kinds["episode_start"] == kinds["episode_end"] == 2
    steps = len(events) - 4  # one unit or error per control step (dish cycle)
    assert steps >= 2
    # every state is answered by a latent and every latent by an action; a state the sim re-sent while the
    # stack was slow to answer (resend_period_s) adds one of each, never a cycle
    assert counts["/sim/state"] == counts["/encoder/latent"] == counts["/policy/action"] >= steps
    # decision_frames_only (the launch default): the frame each decision acts on, relayed to the encoder
    assert counts["/clock"] > 10 * steps and counts["/sim/camera/image"] >= steps
    assert counts["/camera/image_raw"] >= steps
    assert counts["/camera/image_raw"] == counts["/camera/camera_info"] > 0

    monitor = EconomicsMonitor(load_economics_config())
    expected = [r for r in (monitor.on_event(e) for e in events) if r is not None]
    summaries = []
    for m in read_bag(record / "run", topics=["/econ/summary"]):
        for status in m.data.status:
            if status.name.endswith("episode"):
                summaries.append({kv.key: float(kv.value) for kv in status.values})
    assert len(expected) == len(summaries) == 2 and [e.episode for e in expected] == [10, 11]
    rows = read_episode_csv(run_dir / CSV_NAME)
    assert [(r["site"], int(r["episode"])) for r in rows] == [("default", 10), ("default", 11)]
    assert [float(r["mp_r"]) for r in rows] == pytest.approx([e.mp for e in expected], rel=1e-12)
    for ep, fig in zip(expected, summaries):
        for key in ("mp", "err_rate", "lam", "spread", "wage_parity", "profit", "s_cust", "implied_wage", "hours"):
            assert math.isfinite(fig[key]) and fig[key] == pytest.approx(getattr(ep, key), rel=1e-9), key
        assert fig["units"] + fig["errors"] == ep.attempts
    mp_values = [m.data.data for m in read_bag(record / "run", topics=["/econ/mp"])]
    assert all(math.isfinite(v) for v in mp_values)
    assert all(any(v == pytest.approx(ep.mp, rel=1e-12) for v in mp_values) for ep in expected)

    # what the learner makes of it: one transition per control step, the shifts' ends terminal
    from v2p.learning import transitions_from_bag

    tr = transitions_from_bag(record / "run", load_economics_config())
    assert len(tr) == steps and tr.episodes == 2 and tr.done.sum() == 2, (
        f"{len(tr)} transitions from {steps} control steps ({tr.skipped}): the bag's log times are out of causal "
        "order (a recorder stamping messages when its callbacks run instead of with their DDS source timestamp?)")
    return bag, steps


def test_sim_launch_runs_two_shifts_records_every_topic_and_prices_the_events(ros_env, processes, tmp_path):
    run_sim_launch(processes, tmp_path / "bags", shift_hours=0.005, run_dir=tmp_path / "run")
    check_recording(tmp_path / "bags", tmp_path / "run")


@pytest.mark.slow
def test_sim_launch_then_the_learner_trains_on_its_bag_and_the_policy_hot_reloads(ros_env, processes, tmp_path):
    import torch

    from v2p.rl import load_actor

    record = tmp_path / "bags"
    run_sim_launch(processes, record, shift_hours=0.01, run_dir=tmp_path / "run")
    bag, steps = check_recording(record, tmp_path / "run")

    driver = Driver()
    try:
        actions = driver.subscribe(Float32MultiArray, "/policy/action", reliable_qos(10))
        loaded = driver.subscribe(String, "/policy/checkpoint", latched_qos())
        latent_pub = driver.publisher(Float32MultiArray, "/encoder/latent", reliable_qos(10))
        policy = processes.start(node_argv("policy_node", "input_timeout_s:=3600.0", "observation:=latent",
                                           f"checkpoint_roots:=[{tmp_path / 'ckpt'}]"), "policy")
        driver.wait_for_match(latent_pub)
        wait_until(lambda: any(m.data == "" for m in loaded), 60.0, "the fresh policy's announcement")
        latent = np.random.default_rng(7).normal(size=128).astype(np.float32)
        latent_pub.publish(float_array(latent))
        wait_until(lambda: len(actions) >= 1, 30.0, "a fresh action")
        fresh = np.array(actions[-1].data)

        learner = processes.start(V2P + ["launch", str(REPO / "launch/train_from_bags.launch.yaml"),
                                         f"record_dir:={record}", f"checkpoint:={tmp_path / 'ckpt'}",
                                         "updates_per_transition:=2.0", "observation:=latent"], "train_launch")
        wait_until(lambda: any(m.data.startswith("{") for m in loaded), 120.0,
                   "the policy loading the learner's checkpoint")
        version = Path(parse(loaded[-1].data).path)
        assert version.parent == tmp_path / "ckpt"
        trained = re.search(r"read 1 new bag\(s\): (\d+) transitions", learner.output())
        assert trained and int(trained.group(1)) == steps, learner.output()  # every control step aligned
        before = len(actions)
        latent_pub.publish(float_array(latent))
        wait_until(lambda: len(actions) > before, 30.0, "an action from the new weights")
        actor, meta = load_actor(version)
        expected_action = actor.act(torch.from_numpy(latent).unsqueeze(0), True)[0].numpy()
        np.testing.assert_allclose(np.array(actions[-1].data), expected_action, rtol=1e-5, atol=1e-6)
        assert not np.allclose(expected_action, fresh, atol=1e-4)
        assert meta["updates"] == 2 * steps and meta["extra"]["bags"] == [str(bag.resolve())]

        assert processes.stop(learner, signal.SIGINT, timeout=60) == 0
        assert processes.stop(policy, signal.SIGINT, timeout=60) == 0
        assert group_gone(learner.pid) and group_gone(policy.pid)
        assert "Traceback" not in learner.output() + policy.output()
    finally:
        driver.close()
