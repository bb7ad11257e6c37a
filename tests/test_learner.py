"""The bag learner without ROS: alignment of recorded messages into transitions, rewards consistent with the
economics monitor, bags written by v2p.bags, corrupt bags skipped, checkpoints resumable and loadable."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from v2p.config import load_economics_config
from v2p.economics.monitor import EconomicsMonitor
from v2p.economics.sla import lagrangian_reward
from v2p.learner import (BagLearner, Record, align_transitions, bag_records, learn, transitions_from_bag)
from v2p.task import topics
from v2p.task.dishwashing import EVENTS
from v2p.task.events import SimEvent

torch.set_num_threads(1)
CFG = load_economics_config()
DIM = 8
LAMBDA_TOPIC = topics.econ_topic("lambda")  # recorded too; the learner takes λ from the monitor's own dual ascent instead


class Stream:
    """Builds the record stream a lockstep run produces: clock, events, latent, action, in causal order."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.t_ns = 1_000_000_000
        self.sim_s = 0.0

    def add(self, topic: str, values) -> None:
        self.t_ns += 1_000_000
        self.records.append(Record(self.t_ns, topic, tuple(float(v) for v in values)))

    def event(self, episode: int, kind: str, hours: float = 0.0) -> None:
        self.add(topics.SIM_EVENTS, SimEvent(episode, kind, self.sim_s, 0, "plate", hours).to_array(EVENTS))

    def episode(self, number: int, outcomes: list[str], cycle_s: float = 10.0, shift_hours: float = 0.01,
                rng: np.random.Generator | None = None) -> None:
        rng = rng or np.random.default_rng(number)
        start = self.sim_s
        self.add(topics.CLOCK, [self.sim_s])
        self.event(number, "episode_start", shift_hours)
        for kind in outcomes:
            self.add(topics.LATENT, rng.normal(size=DIM))
            self.add(topics.ACTION, rng.uniform(0, 1, size=2))
            for _ in range(int(cycle_s)):
                self.sim_s += 1.0
                self.add(topics.CLOCK, [self.sim_s])
            self.event(number, kind)
        self.event(number, "episode_end", (self.sim_s - start) / 3600.0)


def monitor_figures(stream: Stream) -> list:
    monitor = EconomicsMonitor(CFG)
    out = []
    for rec in stream.records:
        if rec.topic == topics.SIM_EVENTS:
            result = monitor.on_event(SimEvent.from_array(rec.values, EVENTS))
            if result is not None:
                out.append(result)
    return out


def test_each_control_step_becomes_one_transition_with_the_action_that_followed_it():
    s = Stream()
    s.episode(0, ["unit", "unit", "dropped", "unit"])
    tr = align_transitions(s.records, CFG)
    latents = [r.values for r in s.records if r.topic == topics.LATENT]
    actions = [r.values for r in s.records if r.topic == topics.ACTION]
    assert len(tr) == 4 and tr.episodes == 1
    np.testing.assert_allclose(tr.obs, np.array(latents, np.float32))
    np.testing.assert_allclose(tr.action, np.array(actions, np.float32))
    np.testing.assert_allclose(tr.next_obs[:3], tr.obs[1:])
    assert tr.done.tolist() == [0, 0, 0, 1]


def test_rewards_of_a_shift_sum_to_the_monitors_lagrangian_reward_scaled_by_hours():
    s = Stream()
    s.episode(0, ["unit", "broken", "unit", "dirty", "unit"], shift_hours=0.01)
    s.add(LAMBDA_TOPIC, [123.0])  # what the recorded topic says does not matter: the events decide λ
    s.episode(1, ["unit", "misplaced", "unit"], shift_hours=0.01)
    tr = align_transitions(s.records, CFG)
    figures = monitor_figures(s)
    ends = np.flatnonzero(tr.done)
    assert len(ends) == 2
    per_episode = [tr.reward[: ends[0] + 1].sum(), tr.reward[ends[0] + 1:].sum()]
    in_force = [0.0, figures[0].lam]  # λ starts at 0; shift 1 runs on the λ shift 0's errors raised
    assert figures[0].lam > 0
    for total, ep, lam in zip(per_episode, figures, in_force):
        r = lagrangian_reward(ep.profit, ep.err_rate, ep.error_target, lam)
        assert math.isclose(total, ep.hours / 0.01 * r, rel_tol=1e-5, abs_tol=1e-4)
    # the broken dish costs: its step's reward is below that of the unit before it
    assert tr.reward[1] < tr.reward[0]


def test_an_earlier_sla_breach_prices_the_next_shift_through_lambda():
    def last_shift_rewards(history: list[list[str]]) -> np.ndarray:
        s = Stream()
        for n, outcomes in enumerate(history):
            s.episode(n, outcomes)
        s.episode(len(history), ["dropped", "unit", "broken"])
        tr = align_transitions(s.records, CFG)
        return tr.reward[-3:]

    clean = last_shift_rewards([["unit", "unit", "unit"]])
    breached = last_shift_rewards([["dropped", "broken", "unit"]])
    # same last shift, err 2/3 > e*: after a breach λ > 0 charges it, after a clean shift λ stays 0
    assert breached.sum() < clean.sum()


def test_bad_messages_are_skipped_and_counted_and_a_resent_observation_supersedes():
    s = Stream()
    s.episode(0, ["unit", "unit"])
    recs = list(s.records)
    first_latent = next(i for i, r in enumerate(recs) if r.topic == topics.LATENT)
    bad = [Record(recs[first_latent].timestamp_ns, topics.LATENT, (float("nan"),) * DIM),
           Record(recs[first_latent].timestamp_ns, topics.ACTION, (1.5, 0.2)),
           Record(recs[first_latent].timestamp_ns, topics.SIM_EVENTS, (0.0, 99.0, 1.0, 0.0, 0.0, 0.0)),
           Record(recs[first_latent].timestamp_ns, topics.LATENT, (0.5,) * DIM)]  # unanswered: superseded
    tr = align_transitions(recs[:first_latent] + bad + recs[first_latent:], CFG)
    assert len(tr) == 2
    assert tr.skipped == {"bad observation": 1, "bad action": 1, "bad event": 1}
    np.testing.assert_allclose(tr.obs[0], recs[first_latent].values)


def _cdr_writer(path: Path, **split):
    from rosbags.typesys.stores.ros2_kilted import (builtin_interfaces__msg__Time as Time,
                                                    rosgraph_msgs__msg__Clock as Clock,
                                                    std_msgs__msg__Float32MultiArray as F32,
                                                    std_msgs__msg__Float64 as F64,
                                                    std_msgs__msg__Float64MultiArray as F64A,
                                                    std_msgs__msg__MultiArrayLayout as Layout)

    from v2p.bags import BagWriter

    types = {topics.LATENT: "std_msgs/msg/Float32MultiArray", topics.ACTION: "std_msgs/msg/Float32MultiArray",
             topics.SIM_EVENTS: "std_msgs/msg/Float64MultiArray", topics.CLOCK: "rosgraph_msgs/msg/Clock",
             LAMBDA_TOPIC: "std_msgs/msg/Float64"}
    writer = BagWriter(path, **split)
    for topic, msgtype in types.items():
        writer.add_topic(topic, msgtype)

    def write(rec: Record) -> None:
        msgtype = types[rec.topic]
        if rec.topic == topics.CLOCK:
            sec = int(rec.values[0])
            msg = Clock(clock=Time(sec=sec, nanosec=int(round((rec.values[0] - sec) * 1e9))))
        elif rec.topic == LAMBDA_TOPIC:
            msg = F64(data=rec.values[0])
        elif rec.topic == topics.SIM_EVENTS:
            msg = F64A(layout=Layout(dim=[], data_offset=0), data=np.array(rec.values, np.float64))
        else:
            msg = F32(layout=Layout(dim=[], data_offset=0), data=np.array(rec.values, np.float32))
        writer.write_raw(rec.topic, rec.timestamp_ns, writer.typestore.serialize_cdr(msg, msgtype))

    return writer, write


def write_bag(path: Path, stream: Stream, **split) -> Path:
    """Record `stream` into recording folder `path`; returns its (first) bag."""
    writer, write = _cdr_writer(path, **split)
    with writer:
        for rec in stream.records:
            write(rec)
    return writer.bags[0]


def test_a_bag_written_by_v2p_bags_reads_back_into_the_same_transitions(tmp_path):
    s = Stream()
    s.episode(0, ["unit", "dropped", "unit"])
    s.add(LAMBDA_TOPIC, [0.25])
    s.episode(1, ["unit", "unit"])
    write_bag(tmp_path / "rec", s)
    records = bag_records(tmp_path / "rec")
    assert [r.topic for r in records] == [r.topic for r in s.records if r.topic != LAMBDA_TOPIC]
    from_bag = transitions_from_bag(tmp_path / "rec", CFG)
    direct = align_transitions(s.records, CFG)
    np.testing.assert_allclose(from_bag.obs, direct.obs, rtol=1e-6)
    np.testing.assert_allclose(from_bag.action, direct.action, rtol=1e-6)
    np.testing.assert_allclose(from_bag.reward, direct.reward, rtol=1e-5, atol=1e-6)
    assert from_bag.done.tolist() == direct.done.tolist()


def _two_episode_bag(path: Path, seed: int) -> Path:
    s = Stream()
    rng = np.random.default_rng(seed)
    s.episode(0, ["unit", "dropped", "unit", "unit"], rng=rng)
    s.episode(1, ["unit", "unit", "broken"], rng=rng)
    return write_bag(path, s)


def test_learn_skips_a_corrupt_bag_naming_it_trains_and_writes_a_loadable_checkpoint(tmp_path):
    from v2p.rl import SACConfig, load_actor

    rec = tmp_path / "rec"
    good = _two_episode_bag(rec / "good", 1)
    bad = _two_episode_bag(rec / "bad", 2)
    mcap = next(bad.glob("*.mcap"))
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size // 2])  # truncated mid-file
    logs: list[str] = []
    sac = SACConfig(batch_size=8, buffer_size=1000, net_arch=(32, 32), seed=0, device="cpu", threads=1)
    report = learn([rec], tmp_path / "ckpt", 5, CFG, sac_config=sac, log=logs.append)
    assert report.bags_used == [str(good.resolve())]
    assert list(report.bags_failed) == [str(bad.resolve())]
    assert any(str(bad.resolve()) in line and line.startswith("error") for line in logs)
    assert report.transitions == 7 and report.episodes == 2 and report.updates == 5
    assert all(math.isfinite(v) for v in report.metrics.values())
    assert report.checkpoint == str(tmp_path / "ckpt" / "update_000000005")
    actor, meta = load_actor(tmp_path / "ckpt" / "latest")
    assert meta["extra"]["bags"] == [str(good.resolve())]
    action = actor.act(torch.zeros(1, DIM)).numpy()
    assert action.shape == (1, 2) and np.all((action >= 0) & (action <= 1))


def test_a_restarted_learner_resumes_and_trains_only_on_new_bags(tmp_path):
    from v2p.rl import SACConfig

    sac = SACConfig(batch_size=8, buffer_size=1000, net_arch=(32, 32), seed=0, device="cpu", threads=1)
    _two_episode_bag(tmp_path / "rec" / "a", 1)
    first = learn([tmp_path / "rec"], tmp_path / "ckpt", 4, CFG, sac_config=sac, log=lambda m: None)
    before = (tmp_path / "ckpt" / "latest" / "model.safetensors").read_bytes()
    _two_episode_bag(tmp_path / "rec" / "b", 2)
    learner = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac, log=lambda m: None)
    assert learner.model.agent.updates == 4 and learner.transitions == first.transitions
    used, new = learner.add_bags(sorted((tmp_path / "rec").glob("*/*_0000")))
    assert [Path(u).name for u in used] == ["b_0000"] and new == 7
    learner.train(3)
    learner.save()
    meta = json.loads((tmp_path / "ckpt" / "latest" / "metadata.json").read_text())
    assert meta["updates"] == 7 and [Path(b).name for b in meta["extra"]["bags"]] == ["a_0000", "b_0000"]
    assert (tmp_path / "ckpt" / "latest" / "model.safetensors").read_bytes() != before
    assert sorted(d.name for d in (tmp_path / "ckpt").iterdir()) == ["latest", "update_000000004",
                                                                     "update_000000007"]


def test_updates_due_follow_the_replay_ratio_across_bags_and_a_restart(tmp_path):
    from v2p.rl import SACConfig

    sac = SACConfig(batch_size=8, buffer_size=1000, net_arch=(32, 32), seed=0, device="cpu", threads=1)
    learner = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac, log=lambda m: None)
    assert learner.updates_due(2.0) == 0  # nothing read yet
    _two_episode_bag(tmp_path / "rec" / "a", 1)
    learner.add_bags(sorted((tmp_path / "rec").glob("*/*_0000")))
    n = learner.transitions
    assert n > 0 and learner.updates_due(2.0) == 2 * n and learner.updates_due(0.0) == 0
    learner.train(5)
    assert learner.updates_due(2.0) == 2 * n - 5
    learner.train(learner.updates_due(2.0))
    learner.save()
    assert learner.updates_due(2.0) == 0 and learner.updates_due(1.0) == 0  # never negative
    _two_episode_bag(tmp_path / "rec" / "b", 2)
    again = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac, log=lambda m: None)  # restarted: owes nothing old
    assert again.updates_due(2.0) == 0
    _, new = again.add_bags(sorted((tmp_path / "rec").glob("*/*_0000")))
    assert again.updates_due(2.0) == 2 * new


def test_a_crash_mid_save_leaves_the_previous_version_to_resume_from(tmp_path):
    from v2p.rl import SACConfig

    sac = SACConfig(batch_size=8, buffer_size=1000, net_arch=(32, 32), seed=0, device="cpu", threads=1)
    _two_episode_bag(tmp_path / "rec" / "a", 1)
    learn([tmp_path / "rec"], tmp_path / "ckpt", 4, CFG, sac_config=sac, log=lambda m: None)
    # a save killed after its weights, before the metadata that commits them
    torn = tmp_path / "ckpt" / "update_000000009"
    torn.mkdir()
    (torn / "model.safetensors").write_bytes(b"partial")
    logs: list[str] = []
    learner = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac, log=logs.append)
    assert learner.model.agent.updates == 4 and learner.saved.name == "update_000000004"
    assert any("update_000000009" in line and line.startswith("error") for line in logs)


def test_v2p_learn_cli_prints_one_json_object_and_rejects_an_empty_folder(tmp_path, capsys):
    from v2p.cli import main

    _two_episode_bag(tmp_path / "rec" / "a", 3)
    code = main(["learn", "--bags", str(tmp_path / "rec"), "--out", str(tmp_path / "ckpt"), "--steps", "2",
                 "--batch-size", "4", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    assert report["updates"] == 2 and report["checkpoint"] == str(tmp_path / "ckpt" / "update_000000002")
    (tmp_path / "empty").mkdir()
    assert main(["learn", "--bags", str(tmp_path / "empty"), "--out", str(tmp_path / "c2"), "--steps", "1"]) == 2
    assert "no transitions" in capsys.readouterr().err


def test_an_episode_split_across_bags_of_one_recording_is_learned_whole(tmp_path):
    from v2p.rl import SACConfig

    s = Stream()
    s.episode(0, ["unit", "dropped", "unit", "unit"])
    s.add(LAMBDA_TOPIC, [0.5])
    s.episode(1, ["unit", "broken", "unit"])
    write_bag(tmp_path / "rec", s, split_duration_s=0.025)  # a new bag every 25 records, mid-episode
    bags = sorted((tmp_path / "rec").iterdir())
    assert len(bags) >= 4
    sac = SACConfig(batch_size=8, buffer_size=1000, net_arch=(32, 32), seed=0, device="cpu", threads=1)
    learner = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac, log=lambda m: None)
    used, new = learner.add_bags(bags)
    assert len(used) == len(bags) and new == 7 and learner.episodes == 2
    direct = align_transitions(s.records, CFG)
    buf = learner.model.replay_buffer
    np.testing.assert_allclose(buf.obs[:7].numpy(), direct.obs, rtol=1e-6)
    np.testing.assert_allclose(buf.reward[:7].numpy(), direct.reward, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(buf.action[:7].numpy(), 2 * direct.action - 1, rtol=1e-5, atol=1e-6)
