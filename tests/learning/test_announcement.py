"""Checkpoint announcements (v2p.learning.announcement) and a version's content hash (v2p.learning.versions),
without ROS: the codec round-trips and refuses malformed text naming what is wrong; a follower takes a checkpoint
only inside its roots, symlinks resolved, and only with the announced content hash."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from v2p.errors import V2PError
from v2p.learning import CheckpointVersions
from v2p.learning.announcement import (FORMAT, MAX_CHARS, AnnouncementError, CheckpointAnnouncement, describe,
                                       dump, parse, verified_checkpoint)
from v2p.learning.versions import content_hash

torch.set_num_threads(1)
SHA = "ab" * 32


def sac_version(root: Path, updates: int, episodes: int = 3, bags: tuple[str, ...] = ("/bags/a", "/bags/b")) -> Path:
    """A real SAC checkpoint version under `root`, saved through CheckpointVersions as the learner saves."""
    import gymnasium as gym

    from v2p.rl import SAC

    obs = gym.spaces.Box(-np.inf, np.inf, shape=(8,), dtype=np.float32)
    act = gym.spaces.Box(np.zeros(2, np.float32), np.ones(2, np.float32), dtype=np.float32)
    model = SAC(None, observation_space=obs, action_space=act, seed=updates, net_arch=[16, 16], device="cpu",
                threads=1, tensorboard=False)
    model.episodes = episodes
    return CheckpointVersions(root).save(updates, lambda v: model.save(v, extra={"bags": list(bags)}), keep=10)


def text(**fields) -> str:
    doc = {"format": FORMAT, "path": "/runs/checkpoints/learner/update_000000004", "sha256": SHA, "episodes": 2,
           "bags": 1}
    doc.update(fields)
    return json.dumps({k: v for k, v in doc.items() if v is not ...})


def test_dump_and_parse_round_trip_and_unknown_keys_are_ignored():
    a = CheckpointAnnouncement("/x/update_000000001", SHA, 5, 2)
    assert parse(dump(a)) == a
    assert json.loads(dump(a)) == {"format": FORMAT, "path": a.path, "sha256": SHA, "episodes": 5, "bags": 2}
    assert parse(text(round=7)).episodes == 2  # a later format may add keys


@pytest.mark.parametrize("bad, says", [
    ("x" * (MAX_CHARS + 1), "characters"),
    ("not json", "not JSON"),
    ("[" * 100_000 + "]" * 100_000, "characters"),
    ("[" * 5000 + "]" * 5000, "not JSON"),  # nesting past the parser's stack: RecursionError, caught
    ('["a list"]', "not an object"),
    ("null", "not an object"),
    (text(format="v2p-checkpoint-announcement/0"), "format"),
    (text(format=...), "format"),
    (text(path=...), "'path'"),
    (text(path=""), "'path'"),
    (text(path=7), "'path'"),
    (text(path="/a" * 3000), "'path'"),
    (text(path="/tmp/a\0b"), "'path'"),
    (text(path="relative/update_1"), "not absolute"),
    (text(sha256="AB" * 32), "'sha256'"),
    (text(sha256="ab" * 31), "'sha256'"),
    (text(sha256=None), "'sha256'"),
    (text(episodes=-1), "'episodes'"),
    (text(episodes=1.5), "'episodes'"),
    (text(episodes=True), "'episodes'"),
    (text(episodes="3"), "'episodes'"),
    (text(bags=2**60), "'bags'"),
    (text(bags=...), "'bags'"),
])
def test_malformed_announcements_are_refused_naming_what_is_wrong(bad, says):
    with pytest.raises(AnnouncementError, match=says):
        parse(bad)


def test_content_hash_covers_every_byte_and_name_and_refuses_symlinks(tmp_path):
    version = sac_version(tmp_path / "ckpt", 4)
    digest = content_hash(version)
    assert digest == content_hash(tmp_path / "ckpt" / "latest") == content_hash(shutil.copytree(version,
                                                                                                tmp_path / "copy"))
    weights = version / "model.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[-1] ^= 1
    weights.write_bytes(bytes(blob))
    assert content_hash(version) != digest
    copy = tmp_path / "copy"
    (copy / "model.safetensors").rename(copy / "model2.safetensors")
    assert content_hash(copy) != digest  # the names are covered too
    (copy / "model.safetensors").symlink_to(copy / "model2.safetensors")
    with pytest.raises(V2PError, match="not a regular file"):
        content_hash(copy)


def test_describe_reads_the_hash_episodes_and_bags_of_a_version(tmp_path):
    version = sac_version(tmp_path / "ckpt", 12, episodes=4, bags=("/b/1", "/b/2", "/b/3"))
    a = describe(tmp_path / "ckpt" / "latest")
    assert a == CheckpointAnnouncement(str(version.resolve()), content_hash(version), 4, 3)


def test_a_follower_takes_only_verified_checkpoints_inside_its_roots(tmp_path):
    root = tmp_path / "runs" / "checkpoints" / "learner"
    version = sac_version(root, 4)
    good = describe(version)
    assert verified_checkpoint(good, [root]) == version.resolve()
    assert verified_checkpoint(CheckpointAnnouncement(str(root), good.sha256, 0, 0), [root]) == version.resolve()

    elsewhere = sac_version(tmp_path / "elsewhere", 8)
    refused = {
        "outside": describe(elsewhere),
        "dot-dot": CheckpointAnnouncement(f"{root}/../../../elsewhere/{elsewhere.name}", describe(elsewhere).sha256,
                                          0, 0),
        "wrong hash": CheckpointAnnouncement(good.path, "0" * 64, 0, 0),
        "missing": CheckpointAnnouncement(str(root / "update_000000099"), SHA, 0, 0),
    }
    escape = root / "update_000000009"  # a version inside the root that is a symlink to one outside it
    escape.symlink_to(elsewhere)
    refused["symlinked version"] = CheckpointAnnouncement(str(escape), describe(elsewhere).sha256, 0, 0)
    os.replace(_link(root / ".l", elsewhere), root / "latest")  # `latest` repointed outside
    refused["symlinked latest"] = CheckpointAnnouncement(str(root), describe(elsewhere).sha256, 0, 0)
    for case, announcement in refused.items():
        with pytest.raises(V2PError) as info:
            verified_checkpoint(announcement, [root])
        assert ("outside the checkpoint roots" in str(info.value)) == (case not in ("wrong hash", "missing")), case
    with pytest.raises(AnnouncementError, match="no checkpoint roots"):
        verified_checkpoint(good, [])
    with pytest.raises(AnnouncementError, match="hash to"):
        verified_checkpoint(refused["wrong hash"], [root])


def _link(path: Path, target: Path) -> Path:
    path.symlink_to(target)
    return path
