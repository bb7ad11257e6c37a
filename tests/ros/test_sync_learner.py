"""Lockstep with the learner (sim.launch.yaml `sync_learner:=true`), with real rclpy on a private domain: the
launch file wires the sim, recorder and learner; the sim holds each next shift (and its exit) until
/policy/checkpoint reports a checkpoint trained through the shift just ended, and fails clearly after
sync_timeout_s; two whole launches with one seed give the same books and the same checkpoint bytes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from v2p.launch import load_launch

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from std_msgs.msg import Float32MultiArray, Float64MultiArray, String  # noqa: E402

from node_harness import node_argv, wait_until  # noqa: E402
from v2p.learning.announcement import CheckpointAnnouncement, dump  # noqa: E402
from v2p.task.dishwashing import EVENTS  # noqa: E402
from v2p.task.events import SimEvent  # noqa: E402
from v2p_ros.common import float_array, latched_qos, reliable_qos  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SIM_LAUNCH = REPO / "launch" / "sim.launch.yaml"
V2P = [sys.executable, "-m", "v2p.cli"]


def params(spec) -> dict[str, str]:
    argv = spec.argv
    return dict(argv[i + 1].split(":=", 1) for i, a in enumerate(argv) if a == "-p")


@pytest.mark.parametrize("sync", ["true", "false"])
def test_sim_launch_wires_sync_learner_into_the_sim_recorder_and_learner(sync):
    procs = {p.label.rsplit("-", 1)[0]: p for p in load_launch(SIM_LAUNCH, {"sync_learner": sync}).processes}
    assert params(procs["sim"])["sync_learner"] == sync
    assert params(procs["recorder"])["split_on_episode_end"] == sync
    assert params(procs["learner"])["sync"] == sync
    assert float(params(procs["sim"])["sync_timeout_s"]) > 0


def announcement(last_episode: int | None) -> String:
    return String(data=dump(CheckpointAnnouncement("/ckpt/update_000000001", "0" * 64, 1, 1, last_episode)))


def test_synced_sim_holds_each_next_shift_for_the_checkpoint_and_fails_after_its_timeout(driver, processes):
    states = driver.subscribe(Float32MultiArray, "/sim/state", reliable_qos(10))
    events = driver.subscribe(Float64MultiArray, "/sim/events", reliable_qos(100))
    action_pub = driver.publisher(Float32MultiArray, "/policy/action", reliable_qos(10))
    loaded_pub = driver.publisher(String, "/policy/checkpoint", latched_qos())
    loaded_pub.publish(String(data=""))  # a fresh policy
    sim = processes.start(node_argv(
        "sim_node", "episodes:=2", "shift_hours:=0.006", "seed:=2", "render:=false", "sync_learner:=true",
        "sync_timeout_s:=120.0", "resend_period_s:=60.0", 'await_subscribers:=["/sim/state:1", "/sim/events:1"]'),
        "sim")

    def kinds() -> list[tuple[int, str]]:
        return [(e.episode, e.kind) for e in (SimEvent.from_array(m.data, EVENTS) for m in list(events))]

    answered = [0]

    def play_until_end(episode: int) -> None:
        deadline = time.monotonic() + 120.0
        while (episode, "episode_end") not in kinds():
            assert time.monotonic() < deadline and sim.poll() is None, sim.output()
            if len(states) > answered[0]:
                answered[0] = len(states)
                action_pub.publish(float_array([0.5, 0.5]))
            time.sleep(0.02)

    play_until_end(0)
    time.sleep(1.5)  # held: the policy acts with no checkpoint trained through shift 0
    assert (1, "episode_start") not in kinds() and sim.poll() is None
    before = len(states)
    loaded_pub.publish(announcement(None))  # a checkpoint trained through no episode: still held
    time.sleep(1.0)
    assert (1, "episode_start") not in kinds() and len(states) == before
    loaded_pub.publish(announcement(0))
    wait_until(lambda: (1, "episode_start") in kinds(), 30.0, "shift 1 starting once the checkpoint is reported")
    play_until_end(1)
    time.sleep(1.0)
    assert sim.poll() is None  # the last shift's checkpoint is awaited too, before the exit
    loaded_pub.publish(announcement(1))
    assert sim.wait(timeout=60) == 0, sim.output()
    assert "trained through episode 0" in sim.output() and "trained through episode 1" in sim.output()

    # nobody trains: after sync_timeout_s the sim fails, saying what it waited for
    late = processes.start(node_argv(
        "sim_node", "episodes:=1", "shift_hours:=0.003", "seed:=3", "render:=false", "sync_learner:=true",
        "sync_timeout_s:=1.0", "first_episode:=7", 'await_subscribers:=["/sim/state:1"]'), "late_sim")
    deadline = time.monotonic() + 120.0
    answered = len(states)
    while late.poll() is None:
        assert time.monotonic() < deadline, late.output()
        if len(states) > answered:
            answered = len(states)
            action_pub.publish(float_array([0.5, 0.5]))
        time.sleep(0.02)
    assert late.returncode == 1, late.output()
    assert "no checkpoint trained through episode 7 on /policy/checkpoint within sync_timeout_s 1 s" in late.output()
    assert "Traceback" not in sim.output() + late.output()


def books(run_dir: Path) -> tuple[str, str]:
    """episodes.csv as text and the ledger as SQL (every row of every table)."""
    with sqlite3.connect(run_dir / "ledger.sqlite") as con:
        dump_sql = "\n".join(con.iterdump())
    return (run_dir / "episodes.csv").read_text(), dump_sql


def synced_launch(processes, where: Path, name: str) -> str:
    """Three synced shifts in `where` (the same path for both runs: checkpoint metadata names its bags by their
    absolute paths, so equal content hashes need equal paths); returns the launch's output."""
    launch = processes.start(V2P + ["launch", str(SIM_LAUNCH), "sync_learner:=true", "episodes:=3",
                                    "shift_hours:=0.02", "seed:=5", "deterministic:=false", "split_s:=0.0",
                                    "bag_name:=run", "camera_rate_hz:=2.0", f"record_dir:={where / 'bags'}",
                                    f"run_dir:={where / 'run'}", "sync_timeout_s:=300.0"], name)
    assert launch.wait(timeout=400) == 0, launch.output()
    return launch.output()


@pytest.mark.slow
def test_two_synced_launches_with_one_seed_give_the_same_books_and_checkpoints(ros_env, processes, tmp_path):
    from v2p.learning.versions import content_hash

    where = tmp_path / "work"
    outputs, runs = [], []
    for k in range(2):
        outputs.append(synced_launch(processes, where, f"launch{k}"))
        runs.append(shutil.move(str(where), str(tmp_path / f"run{k}")))
    first, second = (Path(r) for r in runs)
    for log in outputs:
        assert "Traceback" not in log and "safe action" not in log, log
        assert [f"trained through episode {k}" in log for k in range(3)] == [True] * 3, log
    csv, ledger = books(first / "run")
    assert csv.count("\n") == 4 and "INSERT INTO" in ledger  # a header and three shifts
    assert books(second / "run") == (csv, ledger)
    versions = {v.name: content_hash(v) for v in sorted((first / "checkpoints" / "learner").glob("update_*"))}
    assert len(versions) == 3 and min(int(v.removeprefix("update_")) for v in versions) > 0
    assert {v.name: content_hash(v) for v in sorted((second / "checkpoints" / "learner").glob("update_*"))} == versions
    assert os.listdir(first / "bags" / "run") == os.listdir(second / "bags" / "run")
