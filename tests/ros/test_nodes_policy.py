"""policy_node on a private ROS domain: NaN or wrong-length latents publish nothing; an announcement on
/learner/checkpoint of a corrupt or mismatched checkpoint, of one outside `checkpoint_roots` or with another content
hash, or that is no announcement at all, keeps the current weights (logged once per announcement); a good one is
hot-reloaded, republished on /policy/checkpoint, and the next actions are its actor's; with no input the watchdog
publishes the safe action; another publisher on the action topic is reported on /diagnostics."""

from __future__ import annotations

import math
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.ros

rclpy = pytest.importorskip("rclpy")
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402
from std_msgs.msg import Float32MultiArray, String  # noqa: E402

from node_harness import Driver, node_argv, wait_until  # noqa: E402
from v2p.learning.announcement import CheckpointAnnouncement, describe, dump  # noqa: E402
from v2p_ros.common import float_array, latched_qos, reliable_qos  # noqa: E402

torch.set_num_threads(1)


def write_checkpoint(path: Path, obs_dim: int, seed: int) -> Path:
    """A real SAC checkpoint (the learner's format) for `obs_dim` observations and [speed, care] in [0, 1]."""
    import gymnasium as gym

    from v2p.rl import SACConfig
    from v2p.rl.sac import SAC

    obs = gym.spaces.Box(-np.inf, np.inf, shape=(obs_dim,), dtype=np.float32)
    act = gym.spaces.Box(np.zeros(2, np.float32), np.ones(2, np.float32), dtype=np.float32)
    model = SAC(None, config=SACConfig(seed=seed, device="cpu", threads=1), observation_space=obs, action_space=act)
    with torch.no_grad():  # move the mean head away from the fresh init so its actions are recognisably its own
        model.agent.actor.head.bias.add_(torch.tensor([1.5, -1.5, 0.0, 0.0]))
    return model.save(path)


def actions_after(driver: Driver, send, timeout: float = 10.0) -> np.ndarray:
    before = driver.count("/policy/action")
    send()
    wait_until(lambda: driver.count("/policy/action") > before, timeout, "an action")
    return np.array(driver.received["/policy/action"][before].data)


def test_policy_drops_bad_latents_keeps_weights_on_bad_checkpoints_and_hot_reloads(driver, processes, tmp_path):
    from v2p.rl import load_actor

    root = tmp_path / "learner"
    good = write_checkpoint(root / "update_000000009", 128, seed=1)
    mismatched = write_checkpoint(root / "update_000000002", 64, seed=2)
    corrupt = Path(shutil.copytree(good, root / "update_000000003"))
    weights = corrupt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    elsewhere = write_checkpoint(tmp_path / "elsewhere" / "update_000000001", 128, seed=3)  # loads, not in the root

    driver.subscribe(Float32MultiArray, "/policy/action", reliable_qos(10))
    driver.subscribe(String, "/policy/checkpoint", latched_qos())
    latent_pub = driver.publisher(Float32MultiArray, "/encoder/latent", reliable_qos(10))
    announce = driver.publisher(String, "/learner/checkpoint", latched_qos())
    node = processes.start(node_argv("policy_node", "seed:=5", "input_timeout_s:=3600.0", "observation:=latent",
                                     f"checkpoint_roots:=[{root}]"), "policy")
    driver.wait_for_match(latent_pub)
    driver.wait_for_match(announce)
    wait_until(lambda: driver.node.count_subscribers("/policy/action") >= 1)
    latent = np.random.default_rng(0).normal(size=128).astype(np.float32)
    fresh = actions_after(driver, lambda: latent_pub.publish(float_array(latent)))
    assert fresh.shape == (2,) and np.all((fresh >= 0) & (fresh <= 1))

    nan = latent.copy()
    nan[7] = math.nan
    for bad in (nan, latent[:100], np.full(128, np.inf, np.float32)):
        latent_pub.publish(float_array(bad))
    assert driver.quiet("/policy/action", 1.5) == 0
    assert node.output().count("dropping /encoder/latent") == 3

    bad = [dump(describe(corrupt)), dump(describe(mismatched)),
           dump(CheckpointAnnouncement(str(root / "missing"), "0" * 64, 0, 0)),
           dump(describe(elsewhere)), dump(CheckpointAnnouncement(str(good), "0" * 64, 0, 0)),
           str(good)]  # a bare path: what announcements were before they carried a hash
    for n, text in enumerate(bad, start=1):
        announce.publish(String(data=text))  # keep-last-1: one announcement at a time
        wait_until(lambda: node.output().count("keeping the current weights") == n, 20.0, f"refusal of {text}")
    for text in (bad[3], bad[0], "{}"):  # the same bad announcements again are refused without a word
        announce.publish(String(data=text))
    wait_until(lambda: node.output().count("keeping the current weights") == len(bad) + 1, 20.0, "refusal of {}")
    np.testing.assert_allclose(actions_after(driver, lambda: latent_pub.publish(float_array(latent))), fresh,
                               rtol=1e-6)
    log = node.output()
    assert str(corrupt / "model.safetensors") in log and "(64,)" in log and "missing" in log
    assert "outside the checkpoint roots" in log and log.count("hash to") == 1 and "not JSON" in log

    announcement = dump(describe(good))
    announce.publish(String(data=announcement))
    wait_until(lambda: any(m.data == announcement for m in driver.received["/policy/checkpoint"]), 20.0,
               "the reload announcement")
    actor, _ = load_actor(good)
    expected = actor.act(torch.from_numpy(latent).unsqueeze(0), True)[0].numpy()
    reloaded = actions_after(driver, lambda: latent_pub.publish(float_array(latent)))
    np.testing.assert_allclose(reloaded, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(reloaded, fresh, atol=1e-3)
    assert processes.stop(node, signal.SIGINT) == 0
    assert "Traceback" not in node.output()


def test_watchdog_publishes_the_safe_action_when_latents_stop(driver, processes):
    driver.subscribe(Float32MultiArray, "/policy/action", reliable_qos(10))
    node = processes.start(node_argv("policy_node", "input_timeout_s:=0.5", "watchdog_period_s:=0.1",
                                     "safe_action:=[0.1, 0.9]"), "policy")
    wait_until(lambda: driver.count("/policy/action") >= 2, 60.0, "safe actions")
    safe = np.array(driver.received["/policy/action"][-1].data)
    np.testing.assert_allclose(safe, [0.1, 0.9], rtol=1e-6)
    assert "publishing the safe action" in node.output()
    assert processes.stop(node, signal.SIGINT) == 0


def test_another_publisher_on_the_action_topic_is_reported_on_diagnostics(driver, processes):
    diagnostics = driver.subscribe(DiagnosticArray, "/diagnostics", reliable_qos(10))
    node = processes.start(node_argv("policy_node", "watch_action_publishers:=true", "watchdog_period_s:=0.2",
                                     "input_timeout_s:=3600.0"), "policy")

    def statuses(level: bytes, since: int = 0) -> list:
        return [s for m in list(diagnostics)[since:] for s in m.status if s.level == level]

    wait_until(lambda: statuses(DiagnosticStatus.OK), 60.0, "the sole-publisher status")
    stranger = driver.node.create_publisher(Float32MultiArray, "/policy/action", reliable_qos(10))
    wait_until(lambda: statuses(DiagnosticStatus.ERROR), 30.0, "an ERROR status naming the stranger")
    report = statuses(DiagnosticStatus.ERROR)[0]
    assert [(kv.key, kv.value) for kv in report.values] == [("publisher", "/v2p_test_driver")]
    assert report.hardware_id == "/policy/action" and "other publishers on /policy/action" in node.output()
    driver.node.destroy_publisher(stranger)
    seen = len(diagnostics)
    wait_until(lambda: statuses(DiagnosticStatus.OK, seen), 30.0, "the OK status once the stranger left")
    assert processes.stop(node, signal.SIGINT) == 0
    assert "Traceback" not in node.output()
