"""The checkpoint-versions layout (v2p.learning.versions): versions newest first, `latest` repointed at each save,
pruning to `keep`, a user's path resolved, the newest version copied for another learner to resume from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from v2p.errors import V2PError
from v2p.learning import CheckpointVersions, resolve_checkpoint
from v2p.rl.checkpoint import METADATA


def write_version(updates: int):
    """What a checkpoint writer leaves: a folder whose metadata commits it."""
    def write(version: Path) -> None:
        version.mkdir(parents=True)
        (version / METADATA).write_text(json.dumps({"updates": updates}))
    return write


def test_each_save_repoints_latest_and_prunes_to_keep(tmp_path):
    versions = CheckpointVersions(tmp_path / "ckpt")
    assert versions.versions() == [] and versions.newest() is None and versions.latest() is None
    for updates in (4, 12, 8, 30):
        saved = versions.save(updates, write_version(updates), keep=2)
        assert saved == tmp_path / "ckpt" / f"update_{updates:09d}"
        assert versions.latest() == saved.resolve()
        assert (tmp_path / "ckpt" / "latest").readlink() == Path(saved.name)  # relative: the folder can move
    # pruned to the 2 newest by name, never the one just saved
    assert [v.name for v in versions.versions()] == ["update_000000030", "update_000000012"]
    assert versions.newest().name == "update_000000030"
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["latest", "update_000000012",
                                                                     "update_000000030"]


def test_saving_the_same_updates_again_replaces_the_torn_version(tmp_path):
    versions = CheckpointVersions(tmp_path / "ckpt")
    torn = tmp_path / "ckpt" / "update_000000005"
    torn.mkdir(parents=True)
    (torn / "model.safetensors").write_bytes(b"partial")
    versions.save(5, write_version(5), keep=3)
    assert sorted(p.name for p in torn.iterdir()) == [METADATA]


def test_a_path_resolves_to_itself_as_a_checkpoint_or_to_what_latest_points_at(tmp_path):
    versions = CheckpointVersions(tmp_path / "ckpt")
    saved = versions.save(7, write_version(7), keep=3)
    assert resolve_checkpoint(tmp_path / "ckpt") == saved.resolve()
    assert resolve_checkpoint(str(saved)) == saved.resolve()
    assert resolve_checkpoint(tmp_path / "nothing") == (tmp_path / "nothing").resolve()  # the loader names it


def test_the_latest_version_copies_into_another_folder_as_a_version_there(tmp_path):
    source = CheckpointVersions(tmp_path / "platform")
    with pytest.raises(V2PError, match="no checkpoint version saved yet"):
        source.copy_latest_to(tmp_path / "arm")
    source.save(3, write_version(3), keep=3)
    source.save(9, write_version(9), keep=3)
    (tmp_path / "arm").mkdir()
    copy = source.copy_latest_to(tmp_path / "arm")
    assert copy == tmp_path / "arm" / "update_000000009" and not copy.is_symlink()
    assert json.loads((copy / METADATA).read_text()) == {"updates": 9}
    assert CheckpointVersions(tmp_path / "arm").newest() == copy


def test_a_learner_only_writes_into_a_folder_of_versions(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(V2PError, match="is not a folder of checkpoints"):
        CheckpointVersions(tmp_path / "file").check_writable()
    write_version(1)(tmp_path / "single")
    with pytest.raises(V2PError, match="is a single checkpoint"):
        CheckpointVersions(tmp_path / "single").check_writable()
    CheckpointVersions(tmp_path / "absent").check_writable()


def test_a_save_killed_mid_write_leaves_no_version_and_latest_where_it_was(tmp_path):
    versions = CheckpointVersions(tmp_path / "ckpt")
    first = versions.save(4, write_version(4), keep=3)

    def torn(version: Path) -> None:  # the weights written, then the learner dies before its metadata
        version.mkdir(parents=True)
        (version / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        versions.save(9, torn, keep=3)
    assert versions.versions() == [first] and versions.latest() == first.resolve()
    again = versions.save(9, write_version(9), keep=3)  # the next save of that name clears what was left
    assert versions.versions() == [again, first] and not list((tmp_path / "ckpt").glob(".*partial"))
