"""Sync mode's two rules without ROS: the learner pays, for each closed bag, every update the replay ratio then owes
and announces the result through the bag's last episode (`BagLearner.learn_bag`; two learners fed the same bags
write the same bytes); the sim holds its next shift until the policy reports a checkpoint trained through the shift
just ended (`v2p_sim.pacing.trained_through`, `LearnerSync`)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from recorded_streams import CFG, Stream, _cdr_writer
from v2p.learning import BagLearner
from v2p.learning.announcement import AnnouncementError, CheckpointAnnouncement, describe, dump, parse
from v2p.learning.versions import content_hash
from v2p.stopping import StopRequest
from v2p_sim.pacing import LearnerSync, trained_through

torch.set_num_threads(1)
OUTCOMES = [["unit", "dropped", "unit"], ["unit", "unit", "unit", "broken"], ["unit", "unit"]]


@pytest.fixture
def sac():
    from v2p.task.dishwashing import DISHWASHING

    return replace(DISHWASHING.sac, batch_size=4, buffer_size=1000, net_arch=(16, 16), seed=3, device="cpu", threads=1)


def shift_bags(folder: Path, first_episode: int = 10) -> list[Path]:
    """One recording split at each episode's end, as the recorder does with split_on_episode_end: one bag per
    shift, then the bag the shutdown closes (no episode ends in it)."""
    writer, write = _cdr_writer(folder)
    rng = np.random.default_rng(5)
    with writer:
        for k, outcomes in enumerate(OUTCOMES):
            stream = Stream()
            stream.t_ns += k * 10**10
            stream.sim_s = k * 1000.0
            stream.episode(first_episode + k, outcomes, rng=rng)
            for rec in stream.records:
                write(rec)
            writer.split()
        trailing = Stream()
        trailing.t_ns += 10**11
        trailing.add("/clock", [9999.0])
        write(trailing.records[0])
    return sorted(folder.glob("*_0*"))


def test_each_bag_pays_what_the_ratio_owes_then_and_two_learners_write_the_same_bytes(tmp_path, sac):
    bags = shift_bags(tmp_path / "rec" / "run")
    assert len(bags) == 4
    runs = []
    for name in ("a", "b"):
        learner = BagLearner(tmp_path / name, CFG, sac_config=sac)
        rounds = [learner.learn_bag(bag, 2.0) for bag in bags]
        runs.append((learner, rounds))
    (learner, rounds), (_, again) = runs
    # one transition per dish cycle; the ratio's debt is paid in full at each bag, and only there
    assert [r.transitions for r in rounds] == [len(o) for o in OUTCOMES] + [0]
    assert [r.updates for r in rounds] == [2 * len(o) for o in OUTCOMES] + [0]
    assert rounds[-1].saved is None and learner.updates_due(2.0) == 0
    assert learner.last_episode == 12 and learner.model.agent.updates == 2 * sum(map(len, OUTCOMES))
    versions = [r.saved for r in rounds[:-1]]
    assert [v.name for v in versions] == [f"update_{n:09d}" for n in (6, 14, 18)]
    assert [describe(v).last_episode for v in versions] == [10, 11, 12]
    # same seed, same bags, same order: the same checkpoint bytes (the metadata names the same bag paths)
    assert [content_hash(r.saved) for r in again[:-1]] == [content_hash(v) for v in versions]
    # a learner fed the same bags in other rounds (two bags, then the rest) holds other weights: rounds are part
    # of the recipe, which is why sync mode ties them to the bags
    other = BagLearner(tmp_path / "c", CFG, sac_config=sac)
    other.add_bags(bags[:2])
    other.train(other.updates_due(2.0))
    for bag in bags[2:]:
        other.learn_bag(bag, 2.0)
    assert other.model.agent.updates == learner.model.agent.updates
    assert content_hash(other.saved) != content_hash(versions[-1])

    resumed = BagLearner(tmp_path / "a", CFG, sac_config=sac)  # a restart keeps the episode it got through
    assert resumed.last_episode == 12 and resumed.learn_bag(bags[0], 2.0).read is False


def test_a_ratio_owing_nothing_saves_nothing_and_a_bad_bag_is_skipped(tmp_path, sac):
    bags = shift_bags(tmp_path / "rec" / "run")
    learner = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac)
    done = learner.learn_bag(bags[0], 0.0)
    assert (done.read, done.transitions, done.updates, done.saved) == (True, 3, 0, None)
    assert learner.last_episode == 10  # read through episode 10, though nothing was owed
    mcap = next(bags[1].glob("*.mcap"))
    mcap.write_bytes(mcap.read_bytes()[:200])
    bad = learner.learn_bag(bags[1], 2.0)
    assert not bad.read and str(bags[1].resolve()) in learner.failed and learner.last_episode == 10


def test_the_announcement_carries_the_last_episode_and_older_ones_parse_without_it():
    sha = "ab" * 32
    a = CheckpointAnnouncement("/x/update_000000004", sha, 3, 2, 1002)
    assert parse(dump(a)) == a and '"last_episode":1002' in dump(a)
    old = CheckpointAnnouncement("/x/update_000000004", sha, 3, 2)
    assert parse(dump(old)).last_episode is None and "last_episode" not in dump(old)
    with pytest.raises(AnnouncementError, match="last_episode"):
        parse(dump(a).replace("1002", "-1"))


def test_the_sim_waits_for_a_checkpoint_trained_through_the_shift_just_ended():
    assert not trained_through(None, 0)  # a fresh policy: nothing trained yet
    assert trained_through(3, 3) and trained_through(1002, 4)  # a later phase's checkpoint covers earlier shifts
    assert not trained_through(2, 3)  # the previous shift's checkpoint is not enough
    stop = StopRequest()
    sync = LearnerSync(stop, timeout_s=5.0)
    sync.on_checkpoint(2)
    timer = threading.Timer(0.3, sync.on_checkpoint, args=(3,))
    timer.start()
    t0 = time.monotonic()
    assert sync.wait(3) is True and 0.25 <= time.monotonic() - t0 < 4.0
    assert LearnerSync(stop, timeout_s=0.2).wait(4) is False  # the timeout: the caller fails or warns
    waiting = LearnerSync(stop, timeout_s=30.0)
    threading.Timer(0.2, stop.request).start()
    t0 = time.monotonic()
    assert waiting.wait(4) is None and time.monotonic() - t0 < 5.0  # a stop ends the wait at once
