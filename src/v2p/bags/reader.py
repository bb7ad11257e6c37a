"""Read rosbag2 bags and recordings (folders of bags) through `rosbags`."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.interfaces import ConnectionExtRosbag2, Qos
from rosbags.rosbag2 import Reader, ReaderError

from v2p.bags.errors import BagError
from v2p.bags.writer import default_typestore


class BagMessage(NamedTuple):
    topic: str
    msgtype: str
    timestamp_ns: int
    data: Any  # the CDR bytes when read raw, else the deserialized message (a rosbags dataclass)


@dataclass(frozen=True)
class TopicInfo:
    name: str
    msgtype: str
    message_count: int
    serialization_format: str
    offered_qos: tuple[Qos, ...] = ()


@dataclass(frozen=True)
class BagInfo:
    path: Path
    bags: tuple[Path, ...]
    files: tuple[Path, ...]
    size_bytes: int
    storage_identifier: str
    ros_distro: str
    start_ns: int
    end_ns: int
    message_count: int
    topics: tuple[TopicInfo, ...] = field(default_factory=tuple)

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)


def is_bag(path: Path) -> bool:
    return (path / "metadata.yaml").is_file() or any(path.glob("*.mcap"))


def is_complete(bag: Path) -> bool:
    """A bag is complete once its writer wrote metadata.yaml (the last step of closing it)."""
    return (bag / "metadata.yaml").is_file()


def find_bags(path: Path | str, *, complete_only: bool = False) -> list[Path]:
    """The bags at `path`: the path itself when it is a bag, else every bag below it, in name order."""
    path = Path(path)
    if not path.exists():
        raise BagError(f"{path}: no such bag or folder")
    if not path.is_dir():
        raise BagError(f"{path}: a bag is a folder (with metadata.yaml and .mcap files), not a file")
    if is_bag(path):
        bags = [path]
    else:
        bags = []
        for root, dirs, _files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # skip repair staging folders
            here = Path(root)
            if here != path and is_bag(here):
                bags.append(here)
                dirs.clear()  # a bag holds no bags
        bags.sort()
    if complete_only:
        bags = [bag for bag in bags if is_complete(bag)]
    return bags


def _require_bags(path: Path, *, skip_incomplete: bool) -> list[Path]:
    bags = find_bags(path)
    incomplete = [bag for bag in bags if not is_complete(bag)]
    if incomplete and not skip_incomplete:
        raise BagError(
            f"{incomplete[0]}: incomplete bag (no metadata.yaml: its recorder was stopped without closing it); "
            f"run `v2p bag repair {incomplete[0]}`"
        )
    bags = [bag for bag in bags if is_complete(bag)]
    if not bags:
        raise BagError(f"{path}: holds no complete rosbag2 bag")
    return bags


def _read_metadata(bag: Path) -> dict[str, Any]:
    meta_path = bag / "metadata.yaml"
    try:
        data = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
        info = data["rosbag2_bagfile_information"]
        if not isinstance(info, dict):
            raise TypeError("rosbag2_bagfile_information is not a mapping")
        return info
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise BagError(f"{meta_path}: unreadable bag metadata: {exc}") from None


def bag_info(path: Path | str) -> BagInfo:
    """What `ros2 bag info` shows, for a bag or a recording (all its complete bags together).

    Every storage file is opened, so a truncated or corrupt file is an error naming it.
    """
    path = Path(path)
    bags = _require_bags(path, skip_incomplete=False)
    files: list[Path] = []
    storage_ids: set[str] = set()
    distros: set[str] = set()
    start, end, count = 2**63 - 1, 0, 0
    topics: dict[tuple[str, str], list[Any]] = {}
    for bag in bags:
        meta = _read_metadata(bag)
        try:
            bag_files = [bag / Path(p).name for p in meta["relative_file_paths"]]
            bag_count = int(meta["message_count"])
            bag_start = int(meta["starting_time"]["nanoseconds_since_epoch"])
            bag_duration = int(meta["duration"]["nanoseconds"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BagError(f"{bag / 'metadata.yaml'}: bad or missing key {exc}") from None
        _check_storage(bag)
        files += bag_files
        storage_ids.add(str(meta.get("storage_identifier", "")))
        distros.add(str(meta.get("ros_distro") or ""))
        if bag_count:
            start = min(start, bag_start)
            end = max(end, bag_start + bag_duration)
        count += bag_count
        with Reader(bag) as reader:
            for conn in reader.connections:
                ext = conn.ext
                assert isinstance(ext, ConnectionExtRosbag2)
                entry = topics.setdefault((conn.topic, conn.msgtype), [0, ext.serialization_format, ()])
                entry[0] += conn.msgcount
                entry[2] = entry[2] or tuple(ext.offered_qos_profiles)
    size = sum(f.stat().st_size for f in files if f.exists())
    return BagInfo(
        path=path,
        bags=tuple(bags),
        files=tuple(files),
        size_bytes=size,
        storage_identifier=",".join(sorted(storage_ids)),
        ros_distro=",".join(sorted(distros)),
        start_ns=start if count else 0,
        end_ns=end if count else 0,
        message_count=count,
        topics=tuple(
            TopicInfo(name, msgtype, n, fmt, qos) for (name, msgtype), (n, fmt, qos) in sorted(topics.items())
        ),
    )


def _check_storage(bag: Path) -> None:
    try:
        with Reader(bag):
            pass
    except (ReaderError, FileNotFoundError, OSError, AssertionError) as exc:
        raise BagError(f"{bag}: unreadable bag storage: {exc or type(exc).__name__}") from None


def read_bag(
    path: Path | str,
    *,
    topics: Iterable[str] | None = None,
    raw: bool = False,
    skip_incomplete: bool = False,
) -> Iterator[BagMessage]:
    """Every message of a bag or recording in time order, raw (CDR bytes) or deserialized.

    An incomplete bag (being written, or killed) is an error unless skip_incomplete is set.
    """
    path = Path(path)
    bags = _require_bags(path, skip_incomplete=skip_incomplete)
    for bag in bags:
        _check_storage(bag)
    wanted = None if topics is None else set(topics)
    try:
        with AnyReader(bags, default_typestore=default_typestore()) as reader:
            connections = [c for c in reader.connections if wanted is None or c.topic in wanted]
            if wanted is not None and not connections:
                return  # none of the wanted topics: rosbags reads every connection when given none
            for conn, timestamp, data in reader.messages(connections=connections):
                payload = bytes(data) if raw else reader.deserialize(data, conn.msgtype)
                yield BagMessage(conn.topic, conn.msgtype, timestamp, payload)
    except (AnyReaderError, ReaderError, AssertionError) as exc:
        raise BagError(f"{path}: cannot read bag: {exc or type(exc).__name__}") from None
