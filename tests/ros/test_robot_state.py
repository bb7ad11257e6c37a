"""/robot/state on a private ROS domain: the sim node publishes the robot's own state just before each /sim/state
(the ROBOT_STATE fields of it); the policy node composes its observation from the latent and the newest robot
state exactly as the learner's TransitionStream composes it from the same messages recorded."""

from __future__ import annotations

import signal
import threading
import time

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from std_msgs.msg import Float32MultiArray  # noqa: E402

from node_harness import node_argv, wait_until  # noqa: E402
from test_nodes_policy import write_checkpoint  # noqa: E402
from v2p.config import load_economics_config  # noqa: E402
from v2p.learning import Record, align_transitions  # noqa: E402
from v2p.task import topics  # noqa: E402
from v2p.task.dishwashing import EVENTS, POLICY_INPUTS, ROBOT_STATE, STATE  # noqa: E402
from v2p.task.events import SimEvent  # noqa: E402
from v2p_ros.common import float_array, reliable_qos  # noqa: E402

torch.set_num_threads(1)


def stamped(driver, topic: str, log: list, lock: threading.Lock) -> None:
    """Record (DDS source timestamp, topic, values) of every message on `topic` (the recorder's stamping)."""
    def keep(msg, info) -> None:
        with lock:
            log.append((info["source_timestamp"], topic, np.asarray(msg.data, np.float32)))

    driver.node.create_subscription(Float32MultiArray, topic, keep, reliable_qos(100))


def test_the_sim_publishes_the_robot_state_just_before_each_state(driver, processes):
    log: list = []
    lock = threading.Lock()
    for topic in (topics.ROBOT_STATE, topics.SIM_STATE):
        stamped(driver, topic, log, lock)
    action_pub = driver.publisher(Float32MultiArray, topics.ACTION, reliable_qos(10))
    sim = processes.start(node_argv("sim_node", "episodes:=1", "shift_hours:=0.02", "seed:=2", "render:=false",
                                    'await_subscribers:=["/sim/state:1", "/robot/state:1"]'), "sim")
    answered = 0
    while sim.poll() is None:
        with lock:
            states = sum(1 for _, t, _ in log if t == topics.SIM_STATE)
        if states > answered:
            answered = states
            action_pub.publish(float_array([0.6, 0.8]))
        time.sleep(0.05)
    assert sim.returncode == 0, sim.output()
    with lock:
        ordered = sorted(log, key=lambda r: r[0])
    pairs = len(ordered) // 2
    assert pairs >= 2 and [t for _, t, _ in ordered] == [topics.ROBOT_STATE, topics.SIM_STATE] * pairs
    fields = list(STATE.view("robot_state"))
    for (_, _, robot), (_, _, state) in zip(ordered[::2], ordered[1::2]):
        assert robot.shape == (ROBOT_STATE.dim,) and state.shape == (STATE.dim,)
        np.testing.assert_array_equal(robot, state[fields])
    loads = [robot[ROBOT_STATE.index("lift_load_n")] for _, _, robot in ordered[2::2]]
    assert all(load > 0 for load in loads), loads  # a careful cycle lifts its dish: the cup felt its load


def test_the_policy_composes_what_the_learner_composes_from_the_recorded_messages(driver, processes, tmp_path):
    from v2p.rl import load_actor

    video = POLICY_INPUTS["video"]
    ckpt = write_checkpoint(tmp_path / "ckpt", video.dim(128), seed=4)
    actions = driver.subscribe(Float32MultiArray, topics.ACTION, reliable_qos(10))
    robot_pub = driver.publisher(Float32MultiArray, topics.ROBOT_STATE, reliable_qos(10))
    latent_pub = driver.publisher(Float32MultiArray, topics.LATENT, reliable_qos(10))
    node = processes.start(node_argv("policy_node", f"checkpoint:={ckpt}", "observation:=video",
                                     "input_timeout_s:=3600.0"), "policy")
    driver.wait_for_match(robot_pub)
    driver.wait_for_match(latent_pub)
    rng = np.random.default_rng(0)
    records = [Record(1, topics.SIM_EVENTS, tuple(SimEvent(0, "episode_start", 0.0, episode_hours=0.01)
                                                  .to_array(EVENTS)))]
    t = 1
    for k in range(5):
        for _ in range(1 + k % 2):  # now and then two robot states before a latent: the newest counts
            robot = rng.uniform(0.0, 1.0, ROBOT_STATE.dim).astype(np.float32)
            robot_pub.publish(float_array(robot))
            t += 1
            records.append(Record(t, topics.ROBOT_STATE, tuple(robot.tolist())))
        time.sleep(0.3)  # in order, as the sim's lockstep publishes them
        latent = rng.normal(size=128).astype(np.float32)
        before = len(actions)
        latent_pub.publish(float_array(latent))
        t += 1
        records.append(Record(t, topics.LATENT, tuple(latent.tolist())))
        wait_until(lambda: len(actions) > before, 30.0, f"the action answering latent {k}")
        t += 1
        records.append(Record(t, topics.ACTION, tuple(np.asarray(actions[-1].data, np.float64).tolist())))
        t += 1
        records.append(Record(t, topics.SIM_EVENTS, tuple(SimEvent(0, "unit", 10.0 * (k + 1), k, "plate")
                                                          .to_array(EVENTS))))
    records.append(Record(t + 1, topics.SIM_EVENTS, tuple(SimEvent(0, "episode_end", 50.0, episode_hours=50 / 3600)
                                                          .to_array(EVENTS))))
    recorded = align_transitions(records, load_economics_config(), video)
    assert len(recorded) == 5 and recorded.obs.shape == (5, video.dim(128))
    actor, _ = load_actor(ckpt)
    with torch.no_grad():
        offline = actor.act(torch.from_numpy(recorded.obs), True).numpy()
    np.testing.assert_allclose(np.array([a.data for a in actions]), offline, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(recorded.action, offline, rtol=1e-5, atol=1e-6)
    assert processes.stop(node, signal.SIGINT) == 0
    assert "Traceback" not in node.output()


def test_a_bad_robot_state_is_dropped_and_the_observation_parameter_is_checked(driver, processes):
    actions = driver.subscribe(Float32MultiArray, topics.ACTION, reliable_qos(10))
    robot_pub = driver.publisher(Float32MultiArray, topics.ROBOT_STATE, reliable_qos(10))
    latent_pub = driver.publisher(Float32MultiArray, topics.LATENT, reliable_qos(10))
    node = processes.start(node_argv("policy_node", "input_timeout_s:=3600.0"), "policy")  # the default: video
    driver.wait_for_match(robot_pub)
    driver.wait_for_match(latent_pub)
    robot_pub.publish(float_array(np.ones(ROBOT_STATE.dim + 1)))
    robot_pub.publish(float_array(np.full(ROBOT_STATE.dim, np.nan)))
    wait_until(lambda: node.output().count("dropping /robot/state") == 2, 20.0, "both bad robot states dropped")
    latent_pub.publish(float_array(np.zeros(128)))
    assert driver.quiet(topics.ACTION, 1.0) == 0  # no robot state yet: no observation to act on
    robot_pub.publish(float_array(np.zeros(ROBOT_STATE.dim)))  # the waiting latent is answered now
    wait_until(lambda: len(actions) == 1, 20.0, "the action once the robot state came")
    assert processes.stop(node, signal.SIGINT) == 0

    bad = processes.start(node_argv("policy_node", "observation:=pixels"), "bad_policy")
    assert bad.wait(timeout=120) == 2, bad.output()
    assert "observation must be one of" in bad.output() and "oracle_state" in bad.output(), bad.output()
