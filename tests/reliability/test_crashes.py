"""Crashes: a SIGKILLed node is respawned by the launch runner (the policy node in sim.launch.yaml is declared
respawn: true); the lockstep sim keeps stepping on its safe action while the policy is dead and takes the
respawned policy's actions again (slow); a SIGKILLed learner resumes from its last checkpoint version.

Covered elsewhere and not repeated here: a SIGKILLed bag writer (tests/bags/test_bags.py, `v2p bag repair`), a
SIGKILLed ledger writer (tests/economics/test_ledger.py), the sim's safe-action fallback on a step with no
answer (tests/ros/test_nodes_sim.py)."""

from __future__ import annotations

from dataclasses import replace

import io
import logging
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from v2p.launch import load_launch, run_launch

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def started(output: str, name: str) -> list[int]:
    return [int(pid) for pid in re.findall(rf"\[INFO\] \[{name}-\d+\]: process started with pid \[(\d+)\]", output)]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.05)


def test_the_policy_node_is_declared_respawn_in_the_sim_launch():
    specs = {p.node_name: p for p in load_launch(ROOT / "launch" / "sim.launch.yaml", {}).processes}
    assert specs["policy"].respawn and specs["policy"].respawn_max_retries < 0  # respawned without limit
    assert specs["sim"].shutdown_on_exit  # the sim is the one that ends the run


def test_launch_respawns_a_sigkilled_process(tmp_path):
    launch = tmp_path / "respawn.launch.yaml"
    launch.write_text(f"""
launch:
- executable:
    cmd: "{PY} -c 'import time; time.sleep(120)'"
    name: worker
    output: screen
    respawn: "true"
    respawn_delay: 0.2
""")
    out, stop, result = io.StringIO(), threading.Event(), {}
    runner = threading.Thread(target=lambda: result.update(rc=run_launch(launch, {}, stop, out=out)))
    runner.start()
    try:
        wait_for(lambda: len(started(out.getvalue(), "worker")) == 1, 20.0, "the first start")
        os.kill(started(out.getvalue(), "worker")[0], signal.SIGKILL)
        wait_for(lambda: len(started(out.getvalue(), "worker")) == 2, 20.0, "the respawn")
    finally:
        stop.set()
        runner.join(timeout=30)
    first, second = started(out.getvalue(), "worker")
    assert first != second and "respawning in 0.2 s" in out.getvalue()


LEARN = """
import sys
from v2p.config import load_economics_config
from v2p.learning import learn, print_log
from dataclasses import replace
from v2p.task.dishwashing import DISHWASHING
sac = replace(DISHWASHING.sac, batch_size=4, buffer_size=500, net_arch=(16, 16), seed=0, device="cpu", threads=1)
with print_log(sys.stdout):
    learn([sys.argv[1]], sys.argv[2], int(sys.argv[3]), load_economics_config(), sac_config=sac)
print("LEARN DONE", flush=True)
"""


@pytest.mark.ros  # uses the process tracker of the ROS tests (kills what it started)
def test_a_sigkilled_learner_resumes_from_its_last_checkpoint_version(processes, tmp_path, caplog):
    sys.path.insert(0, str(ROOT / "tests" / "ros"))
    from node_harness import write_lockstep_recording

    from v2p.config import load_economics_config
    from v2p.learning import BagLearner, CheckpointVersions
    from v2p.rl import load_actor
    from v2p.task.dishwashing import DISHWASHING

    rec, ckpt = tmp_path / "rec", tmp_path / "ckpt"
    write_lockstep_recording(rec / "a", episodes=2, steps=6, seed=1)
    first = processes.start([PY, "-c", LEARN, str(rec), str(ckpt), "4"], "learn_first")
    assert first.wait(timeout=120) == 0 and "LEARN DONE" in first.output(), first.output()
    assert [v.name for v in CheckpointVersions(ckpt).versions()][0] == "update_000000004"

    # a second run resumes, then is SIGKILLed while it takes 10^9 updates (nothing to save yet)
    second = processes.start([PY, "-c", LEARN, str(rec), str(ckpt), str(10**9)], "learn_killed")
    processes.wait_for_output(second, "resumed from", 120.0)
    time.sleep(1.0)  # in the update loop
    assert second.poll() is None, second.output()
    os.kill(second.pid, signal.SIGKILL)
    assert second.wait(timeout=30) == -signal.SIGKILL

    sac = replace(DISHWASHING.sac, batch_size=4, buffer_size=500, net_arch=(16, 16), seed=0, device="cpu", threads=1)
    caplog.set_level(logging.INFO, logger="v2p.learning")
    learner = BagLearner(ckpt, load_economics_config(), sac_config=sac)
    logs = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert learner.saved is not None and learner.saved.name == "update_000000004", logs
    assert learner.model.agent.updates == 4 and learner.transitions > 0
    assert not any(r.levelno >= logging.ERROR for r in caplog.records), logs
    actor, meta = load_actor(ckpt / "latest")
    assert meta["updates"] == 4
    assert np.all(np.isfinite(actor.act(torch.zeros(1, 128)).numpy()))
    learner.train(2)  # and it goes on from there
    assert learner.save().name == "update_000000006"


@pytest.mark.slow
@pytest.mark.ros
def test_sigkilled_policy_sim_steps_on_the_safe_action_and_takes_the_respawned_policys_actions(
        ros_env, processes, tmp_path):
    """The lockstep sim, the mlp encoder and the policy (respawn: true) under `v2p launch`: the policy node is
    SIGKILLed; within action_timeout_s the sim steps on its safe action; launch respawns the policy and the sim's
    states carry the policy's actions again."""
    from std_msgs.msg import Float32MultiArray

    from node_harness import Driver
    from v2p_ros.common import reliable_qos

    safe = [0.15, 0.85]
    launch = tmp_path / "lockstep.launch.yaml"
    launch.write_text(f"""
launch:
- executable:
    cmd: "{PY} -m v2p_ros.sim_node --ros-args -p episodes:=0 -p seed:=3 -p camera_rate_hz:=0.5
          -p action_timeout_s:=3.0 -p resend_period_s:=60.0 -p safe_action:=[{safe[0]},{safe[1]}]"
    name: sim
    output: screen
    on_exit: shutdown
- executable:
    cmd: "{PY} -m v2p_ros.encoder_node --ros-args -p encoder:=mlp -p seed:=3"
    name: encoder
    output: screen
- executable:
    cmd: "{PY} -m v2p_ros.policy_node --ros-args -p seed:=3 -p input_timeout_s:=3600.0"
    name: policy
    output: screen
    respawn: "true"
    respawn_delay: 1.0
""")
    driver = Driver()
    try:
        states = driver.subscribe(Float32MultiArray, "/sim/state", reliable_qos(100))
        actions = driver.subscribe(Float32MultiArray, "/policy/action", reliable_qos(100))
        launcher = processes.start([PY, "-m", "v2p.cli", "launch", str(launch)], "launcher")
        wait_for(lambda: len(actions) >= 3, 180.0, "three policy actions")
        (policy_pid,) = started(launcher.output(), "policy")
        os.kill(policy_pid, signal.SIGKILL)
        killed_at = len(states)
        wait_for(lambda: "using the safe action" in launcher.output(), 60.0, "the sim's safe-action fallback")
        wait_for(lambda: len(started(launcher.output(), "policy")) == 2, 60.0, "the policy respawned")
        after_respawn = len(actions)
        wait_for(lambda: len(actions) >= after_respawn + 3, 120.0, "actions of the respawned policy")
        assert launcher.poll() is None, launcher.output()
        carried = [np.array(s.data)[10:12] for s in states[killed_at:]]  # each state's previous [speed, care]
        on_safe = [bool(np.allclose(c, safe, atol=1e-6)) for c in carried]
        assert any(on_safe), carried  # a step ran on the safe action
        assert not on_safe[-1], carried  # and the latest on the respawned policy's action
        assert processes.stop(launcher, signal.SIGINT, timeout=60.0) == 0, launcher.output()
    finally:
        driver.close()
