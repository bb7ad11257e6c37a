"""The checkpoint-versions layout, owned here alone: a folder of versions `update_<N>/` (SAC checkpoint
directories, N the updates they hold, never rewritten) and the symlink `latest`, repointed atomically at each save.

A reader of `latest` sees the previous or the new version, never one being written, and a crash mid-save leaves the
versions before it intact. The learner writes through `CheckpointVersions.save`; the policy node resolves what a
user names with `resolve_checkpoint`; the demo and the attribution pair ask `CheckpointVersions.latest`. A version's
`content_hash` is what its announcement carries and what a policy node checks before loading it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from v2p.errors import V2PError

VERSION_PREFIX = "update_"
LATEST = "latest"
_CONTENT = b"v2p-checkpoint-content/1\0"  # the hash's domain: changes if what it covers ever changes


def is_checkpoint(path: Path) -> bool:
    """Whether `path` is one SAC checkpoint directory (its committing metadata is there), not a folder of versions."""
    from v2p.rl.checkpoint import METADATA  # torch comes with it: only asked where a checkpoint is loaded anyway

    return (path / METADATA).exists()


def resolve_checkpoint(path: Path | str) -> Path:
    """A checkpoint directory, or a folder of versions (then the version its `latest` points at)."""
    p = Path(path).expanduser()
    if not is_checkpoint(p) and (p / LATEST).is_dir():
        p = p / LATEST
    return p.resolve()


def content_hash(version: Path | str) -> str:
    """SHA-256 (hex) over one checkpoint directory: each file's path inside it, size and bytes, in path order.

    V2PError unless `version` is a folder holding only regular files and folders: a symlink inside could point at
    anything, so a checkpoint with one has no content hash (and is never loaded on an announcement)."""
    root = Path(version).resolve()
    if not root.is_dir():
        raise V2PError(f"{root}: not a checkpoint directory")
    digest = hashlib.sha256(_CONTENT)
    for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
        name = path.relative_to(root).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise V2PError(f"{root}: {name} is not a regular file (a checkpoint holds files and folders only)")
        if path.is_dir():
            continue
        digest.update(name.encode() + b"\0" + path.stat().st_size.to_bytes(8, "little"))
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


class CheckpointVersions:
    """The versions under `root` (see the module docstring)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def check_writable(self) -> None:
        """V2PError unless `root` is absent or a folder of versions (a learner writes into a folder of its own)."""
        if self.root.exists() and not self.root.is_dir():
            raise V2PError(f"{self.root}: exists and is not a folder of checkpoints")
        if is_checkpoint(self.root):
            raise V2PError(f"{self.root}: is a single checkpoint; the learner writes versions into a "
                           "folder of its own")

    def versions(self) -> list[Path]:
        """The versions, newest first."""
        if not self.root.is_dir():
            return []
        return sorted((d for d in self.root.iterdir() if d.is_dir() and d.name.startswith(VERSION_PREFIX)
                       and not d.is_symlink()), reverse=True)

    def newest(self) -> Path | None:
        versions = self.versions()
        return versions[0] if versions else None

    def latest(self) -> Path | None:
        """The version `latest` points at (resolved), or None before the first save."""
        link = self.root / LATEST
        return link.resolve() if link.is_dir() else None

    def save(self, updates: int, write: Callable[[Path], object], keep: int) -> Path:
        """`write` a new version for `updates`, point `latest` at it, keep the `keep` newest; returns the version.

        It is written into a hidden folder and renamed into place, so a learner killed mid-save leaves no
        half-written version (only a hidden folder the next save of that name clears). A version of that name
        saved before (again without new updates) is replaced.
        """
        version = self.root / f"{VERSION_PREFIX}{updates:09d}"
        partial = self.root / f".{version.name}.partial"
        self.root.mkdir(parents=True, exist_ok=True)
        if partial.exists():
            shutil.rmtree(partial)
        write(partial)
        if version.exists():
            shutil.rmtree(version)
        os.replace(partial, version)
        link = self.root / LATEST
        tmp = self.root / f".{LATEST}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(version.name)
        os.replace(tmp, link)  # atomic: readers of `latest` see the old or the new version
        for old in self.versions()[max(1, keep):]:
            if old != version:
                shutil.rmtree(old, ignore_errors=True)
        return version

    def copy_latest_to(self, dest: Path | str) -> Path:
        """Copy the version `latest` points at into folder `dest` (as a version there, for a learner to resume
        from); returns the copy. V2PError when nothing was saved yet."""
        version = self.latest()
        if version is None:
            raise V2PError(f"{self.root}: no checkpoint version saved yet (no `{LATEST}`)")
        copy = Path(dest) / version.name
        shutil.copytree(version, copy)
        return copy
