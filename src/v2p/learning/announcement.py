"""Checkpoint announcements: what /learner/checkpoint and /policy/checkpoint carry about one checkpoint version.

An announcement is a small JSON document (std_msgs/String): the version's absolute path, its content hash
(`v2p.learning.versions.content_hash`) and what it has trained on:

    {"format": "v2p-checkpoint-announcement/1", "path": "/.../update_000000040", "sha256": "<64 hex>",
     "episodes": 3, "bags": 2, "last_episode": 12}

`last_episode` (optional; absent before any episode ended) is the number of the episode whose end the learner read
last: the announced version is the learner's policy after that episode, every update the replay ratio owes up to it
paid. A sim in lockstep with the learner (sim_node `sync_learner`) starts its next shift only once the policy
reports a checkpoint announced through the shift just ended.

This module owns the codec (`dump`, `parse`: size limits and an `AnnouncementError` naming what is wrong), what a
version announces (`describe`), and what a follower checks before it loads one (`verified_checkpoint`): the path
lies inside one of its checkpoint roots once every symlink is resolved, and the files hash to the announced value.
Anyone on the ROS domain can publish an announcement; only these checks make one worth following.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from v2p.errors import V2PError

FORMAT = "v2p-checkpoint-announcement/1"
MAX_CHARS = 16 * 1024  # an announcement is ~200 characters; anything near this is not one
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COUNT_MAX = 2**53  # counts stay exact as JSON numbers


class AnnouncementError(V2PError):
    """A checkpoint announcement that is malformed, or names a checkpoint that must not be loaded."""


@dataclass(frozen=True)
class CheckpointAnnouncement:
    path: str  # absolute path of the checkpoint version
    sha256: str  # its content hash
    episodes: int  # episodes it has trained on
    bags: int  # bags it has trained on
    last_episode: int | None = None  # the episode whose end it was trained through (None: no episode ended yet)


def dump(announcement: CheckpointAnnouncement) -> str:
    """The announcement as the JSON text a String message carries."""
    doc = {"format": FORMAT, "path": announcement.path, "sha256": announcement.sha256,
           "episodes": announcement.episodes, "bags": announcement.bags}
    if announcement.last_episode is not None:
        doc["last_episode"] = announcement.last_episode
    return json.dumps(doc, separators=(",", ":"))


def _count(doc: dict, key: str) -> int:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _COUNT_MAX:
        raise AnnouncementError(f"checkpoint announcement: '{key}' must be a whole number >= 0, got {value!r:.40}")
    return value


def parse(text: str) -> CheckpointAnnouncement:
    """The announcement in `text`; AnnouncementError naming the first thing wrong. Unknown keys are ignored (a later
    format may add some); the size limit bounds them."""
    if len(text) > MAX_CHARS:
        raise AnnouncementError(f"checkpoint announcement of {len(text)} characters (at most {MAX_CHARS})")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser's stack
        raise AnnouncementError(f"checkpoint announcement is not JSON ({type(exc).__name__}: {exc!s:.80})") from None
    if not isinstance(doc, dict):
        raise AnnouncementError(f"checkpoint announcement is a JSON {type(doc).__name__}, not an object")
    if doc.get("format") != FORMAT:
        raise AnnouncementError(f"checkpoint announcement format {doc.get('format')!r:.60}; expected {FORMAT!r}")
    path, sha = doc.get("path"), doc.get("sha256")
    if not isinstance(path, str) or not path or len(path) > MAX_PATH_CHARS or "\0" in path:
        raise AnnouncementError(f"checkpoint announcement: 'path' must be a path of 1..{MAX_PATH_CHARS} characters, "
                                f"got {path!r:.80}")
    if not Path(path).is_absolute():
        raise AnnouncementError(f"checkpoint announcement: path {path!r:.200} is not absolute")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise AnnouncementError(f"checkpoint announcement: 'sha256' must be 64 lowercase hex digits, got {sha!r:.80}")
    last = None if doc.get("last_episode") is None else _count(doc, "last_episode")
    return CheckpointAnnouncement(path, sha, _count(doc, "episodes"), _count(doc, "bags"), last)


def describe(version: Path | str, last_episode: int | None = None) -> CheckpointAnnouncement:
    """The announcement of checkpoint version `version` (resolved): its content hash and, from its metadata, the
    episodes and bags it has trained on and the last episode it was trained through (`last_episode`, when given,
    instead: a learner that read a bag owing no update announces its version as current through that bag's
    episode). V2PError for a folder that is no readable checkpoint."""
    from v2p.learning.versions import content_hash
    from v2p.rl.checkpoint import read_metadata

    path = Path(version).resolve()
    meta = read_metadata(path)
    extra = meta.get("extra") or {}
    bags = extra.get("bags") or []
    if last_episode is None and isinstance(extra.get("last_episode"), int):
        last_episode = extra["last_episode"]
    return CheckpointAnnouncement(str(path), content_hash(path), int(meta.get("episodes") or 0), len(bags),
                                  last_episode)


def verified_checkpoint(announcement: CheckpointAnnouncement, roots: Sequence[Path | str]) -> Path:
    """The checkpoint directory the announcement names, once checked: with every symlink resolved (a folder of
    versions resolves to the version its `latest` points at) it lies inside one of `roots`, and its content hash
    is the announced one. AnnouncementError otherwise; no root at all follows nothing."""
    from v2p.learning.versions import content_hash, resolve_checkpoint

    if not roots:
        raise AnnouncementError(f"not following the announcement of {announcement.path}: no checkpoint roots are "
                                "configured")
    resolved = resolve_checkpoint(announcement.path)
    inside = [Path(root).expanduser().resolve() for root in roots]
    if not any(resolved.is_relative_to(root) for root in inside):
        raise AnnouncementError(f"announced checkpoint {announcement.path} (resolved {resolved}) lies outside the "
                                f"checkpoint roots {', '.join(map(str, inside))}")
    found = content_hash(resolved)
    if found != announcement.sha256:
        raise AnnouncementError(f"announced checkpoint {resolved}: its files hash to {found[:12]}…, the announcement "
                                f"says {announcement.sha256[:12]}…")
    return resolved
