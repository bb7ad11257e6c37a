"""The bag learner (v2p.learning.learner): corrupt bags skipped and named at error level, checkpoints resumable
and loadable, the replay ratio, a crash mid-save, `v2p learn`, an episode split across bags learned whole."""

from __future__ import annotations

from dataclasses import replace

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from recorded_streams import CFG, DIM, LAMBDA_TOPIC, Stream, two_episode_bag, write_bag
from v2p.learning import BagLearner, align_transitions, learn

torch.set_num_threads(1)


@pytest.fixture
def sac():
    from v2p.task.dishwashing import DISHWASHING

    return replace(DISHWASHING.sac, batch_size=8, buffer_size=1000, net_arch=(32, 32), seed=0, device="cpu", threads=1)


@pytest.fixture
def learning_log(caplog):
    """The learning logger's records, info and up."""
    caplog.set_level(logging.INFO, logger="v2p.learning")
    return caplog


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("v2p.learning") and r.levelno == logging.ERROR]


def test_learn_skips_a_corrupt_bag_naming_it_trains_and_writes_a_loadable_checkpoint(tmp_path, sac, learning_log):
    from v2p.rl import load_actor

    rec = tmp_path / "rec"
    good = two_episode_bag(rec / "good", 1)
    bad = two_episode_bag(rec / "bad", 2)
    mcap = next(bad.glob("*.mcap"))
    mcap.write_bytes(mcap.read_bytes()[: mcap.stat().st_size // 2])  # truncated mid-file
    report = learn([rec], tmp_path / "ckpt", 5, CFG, sac_config=sac)
    assert report.bags_used == [str(good.resolve())]
    assert list(report.bags_failed) == [str(bad.resolve())]
    assert any(str(bad.resolve()) in line for line in errors(learning_log))
    assert report.transitions == 7 and report.episodes == 2 and report.updates == 5
    assert all(math.isfinite(v) for v in report.metrics.values())
    assert report.checkpoint == str(tmp_path / "ckpt" / "update_000000005")
    actor, meta = load_actor(tmp_path / "ckpt" / "latest")
    assert meta["extra"]["bags"] == [str(good.resolve())]
    action = actor.act(torch.zeros(1, DIM)).numpy()
    assert action.shape == (1, 2) and np.all((action >= 0) & (action <= 1))


def test_a_restarted_learner_resumes_and_trains_only_on_new_bags(tmp_path, sac):
    two_episode_bag(tmp_path / "rec" / "a", 1)
    first = learn([tmp_path / "rec"], tmp_path / "ckpt", 4, CFG, sac_config=sac)
    before = (tmp_path / "ckpt" / "latest" / "model.safetensors").read_bytes()
    two_episode_bag(tmp_path / "rec" / "b", 2)
    learner = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac)
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


def test_updates_due_follow_the_replay_ratio_across_bags_and_a_restart(tmp_path, sac):
    learner = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac)
    assert learner.updates_due(2.0) == 0  # nothing read yet
    two_episode_bag(tmp_path / "rec" / "a", 1)
    learner.add_bags(sorted((tmp_path / "rec").glob("*/*_0000")))
    n = learner.transitions
    assert n > 0 and learner.updates_due(2.0) == 2 * n and learner.updates_due(0.0) == 0
    learner.train(5)
    assert learner.updates_due(2.0) == 2 * n - 5
    learner.train(learner.updates_due(2.0))
    learner.save()
    assert learner.updates_due(2.0) == 0 and learner.updates_due(1.0) == 0  # never negative
    two_episode_bag(tmp_path / "rec" / "b", 2)
    again = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac)  # restarted: owes nothing old
    assert again.updates_due(2.0) == 0
    _, new = again.add_bags(sorted((tmp_path / "rec").glob("*/*_0000")))
    assert again.updates_due(2.0) == 2 * new


def test_a_crash_mid_save_leaves_the_previous_version_to_resume_from(tmp_path, sac, learning_log):
    two_episode_bag(tmp_path / "rec" / "a", 1)
    learn([tmp_path / "rec"], tmp_path / "ckpt", 4, CFG, sac_config=sac)
    # a save killed after its weights, before the metadata that commits them
    torn = tmp_path / "ckpt" / "update_000000009"
    torn.mkdir()
    (torn / "model.safetensors").write_bytes(b"partial")
    learning_log.clear()
    learner = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac)
    assert learner.model.agent.updates == 4 and learner.saved.name == "update_000000004"
    assert any("update_000000009" in line for line in errors(learning_log))
    assert any(r.levelno == logging.INFO and r.getMessage().startswith("resumed from") for r in learning_log.records)


def test_v2p_learn_cli_prints_one_json_object_and_rejects_an_empty_folder(tmp_path, capsys):
    from v2p.cli import main

    two_episode_bag(tmp_path / "rec" / "a", 3)
    code = main(["learn", "--bags", str(tmp_path / "rec"), "--out", str(tmp_path / "ckpt"), "--steps", "2",
                 "--batch-size", "4", "--observation", "latent", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    assert report["updates"] == 2 and report["checkpoint"] == str(tmp_path / "ckpt" / "update_000000002")
    (tmp_path / "empty").mkdir()
    assert main(["learn", "--bags", str(tmp_path / "empty"), "--out", str(tmp_path / "c2"), "--steps", "1"]) == 2
    assert "no transitions" in capsys.readouterr().err


def test_v2p_learn_prints_the_learners_lines_error_ones_prefixed(tmp_path, capsys):
    from v2p.cli import main

    two_episode_bag(tmp_path / "rec" / "a", 3)
    bad = two_episode_bag(tmp_path / "rec" / "b", 4)
    mcap = next(bad.glob("*.mcap"))
    mcap.write_bytes(mcap.read_bytes()[:300])
    args = ["learn", "--bags", str(tmp_path / "rec"), "--out", str(tmp_path / "ckpt"), "--steps", "1",
            "--batch-size", "4", "--observation", "latent"]
    assert main([*args, "--json"]) == 0
    captured = capsys.readouterr()
    assert f"error: skipping bag {bad.resolve()}" in captured.err  # --json: stdout holds the report alone
    json.loads(captured.out)
    assert main(args) == 0  # resumed; without --json the lines go to stdout before the summary
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"resumed from {tmp_path / 'ckpt' / 'update_000000001'}")
    assert any(line.startswith(f"error: skipping bag {bad.resolve()}") for line in out)


def test_an_episode_split_across_bags_of_one_recording_is_learned_whole(tmp_path, sac):
    s = Stream()
    s.episode(0, ["unit", "dropped", "unit", "unit"])
    s.add(LAMBDA_TOPIC, [0.5])
    s.episode(1, ["unit", "broken", "unit"])
    write_bag(tmp_path / "rec", s, split_duration_s=0.025)  # a new bag every 25 records, mid-episode
    bags = sorted((tmp_path / "rec").iterdir())
    assert len(bags) >= 4
    learner = BagLearner(tmp_path / "ckpt", CFG, sac_config=sac)
    used, new = learner.add_bags(bags)
    assert len(used) == len(bags) and new == 7 and learner.episodes == 2
    direct = align_transitions(s.records, CFG)
    buf = learner.model.replay_buffer
    np.testing.assert_allclose(buf.obs[:7].numpy(), direct.obs, rtol=1e-6)
    np.testing.assert_allclose(buf.parts[:7].numpy(), direct.parts, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(buf.action[:7].numpy(), 2 * direct.action - 1, rtol=1e-5, atol=1e-6)
