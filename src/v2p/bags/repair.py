"""Repair a bag whose writer died (SIGKILL, power loss): keep every message of its complete MCAP chunks.

A killed writer leaves an MCAP file without summary and footer, and no metadata.yaml, so neither rosbags nor
`ros2 bag` opens it. The independent `mcap` stream reader walks the file record by record and stops at the first
incomplete one (the chunk being filled when the writer died); every message before it is rewritten into a valid
bag with its metadata.yaml. The damaged file is kept beside it as `<file>.orig`: nothing is deleted.
"""

from __future__ import annotations

import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from mcap.exceptions import InvalidMagic, McapError
from mcap.records import Channel, Message, Schema
from mcap.stream_reader import StreamReader
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.rosbag2.metadata import parse_qos
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from v2p.bags.errors import BagError
from v2p.bags.reader import find_bags, is_complete
from v2p.bags.writer import default_typestore


@dataclass(frozen=True)
class RepairResult:
    bag: Path
    messages: int  # messages in the repaired bag
    topics: int
    originals: tuple[Path, ...]  # the damaged files, kept
    stopped_at: str  # why reading stopped: "end of file" or the error at the first unreadable record


def needs_repair(bag: Path) -> bool:
    if not is_complete(bag):
        return True
    try:
        with Reader(bag):
            return False
    except Exception:  # any failure to open the storage is what repair is for
        return True


def repair_bag(path: Path | str) -> list[RepairResult]:
    """Repair every damaged bag at `path` (a bag or a recording); complete, readable bags are left alone."""
    return [_repair_one(bag) for bag in find_bags(path) if needs_repair(bag)]


class _Rihs01:
    """Type hashes for the definitions found in a damaged file (they are only stored in metadata.yaml)."""

    def __init__(self) -> None:
        self.known = default_typestore()

    def __call__(self, msgtype: str, msgdef: str) -> str:
        if msgtype in self.known.fielddefs and self.known.generate_msgdef(msgtype, ros_version=2)[0] == msgdef:
            return self.known.hash_rihs01(msgtype)
        store = get_typestore(Stores.EMPTY)
        store.register(get_types_from_msg(msgdef, msgtype))
        return store.hash_rihs01(msgtype)


def _repair_one(bag: Path) -> RepairResult:
    sources = sorted(bag.glob("*.mcap"))
    if not sources:
        raise BagError(f"{bag}: no .mcap file to repair")
    for src in sources:
        if src.with_name(src.name + ".orig").exists():
            raise BagError(f"{src}.orig exists already: a previous repair was interrupted; move it away first")
    staging_root = bag.parent / f".{bag.name}.repair"
    if staging_root.exists():
        shutil.rmtree(staging_root)
    staging = staging_root / bag.name
    rihs01 = _Rihs01()
    count = 0
    stopped_at = "end of file"
    writer = Writer(staging, version=Writer.VERSION_LATEST, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    try:
        for src in sources:
            schemas: dict[int, Schema] = {}
            connections = {}
            by_topic = {}
            with src.open("rb") as stream:
                try:
                    for record in StreamReader(stream, skip_magic=False, emit_chunks=False).records:
                        if isinstance(record, Schema):
                            schemas[record.id] = record
                        elif isinstance(record, Channel):
                            schema = schemas.get(record.schema_id)
                            if schema is None:
                                raise BagError(f"{src}: channel {record.topic} refers to a missing schema")
                            if record.topic in by_topic:  # the same topic again (a second file)
                                connections[record.id] = by_topic[record.topic]
                                continue
                            msgdef = schema.data.decode("utf-8")
                            conn = writer.add_connection(
                                record.topic,
                                schema.name,
                                msgdef=msgdef,
                                rihs01=rihs01(schema.name, msgdef),
                                serialization_format=record.message_encoding,
                                offered_qos_profiles=parse_qos(record.metadata.get("offered_qos_profiles", "")),
                            )
                            connections[record.id] = by_topic[record.topic] = conn
                        elif isinstance(record, Message) and record.channel_id in connections:
                            writer.write(connections[record.channel_id], record.log_time, record.data)
                            count += 1
                except InvalidMagic:
                    raise BagError(f"{src}: not an MCAP file (bad magic bytes); nothing to repair") from None
                except (McapError, EOFError, ValueError, UnicodeDecodeError, struct.error) as exc:
                    # McapError covers EndOfFile: the record the writer was writing when it died.
                    stopped_at = ("an incomplete record at the end of the file (being written when the writer died)"
                                  if type(exc).__name__ == "EndOfFile" else f"{type(exc).__name__}: {exc}")
        topics = len(writer.connections)
        writer.close()
    except BaseException:
        writer.abort()
        shutil.rmtree(staging_root, ignore_errors=True)
        raise
    # Swap in the repaired files; the damaged ones are renamed, never deleted.
    originals = []
    for src in sources:
        kept = src.with_name(src.name + ".orig")
        src.rename(kept)
        originals.append(kept)
    for produced in staging.iterdir():
        produced.replace(bag / produced.name)
    shutil.rmtree(staging_root)
    return RepairResult(bag, count, topics, tuple(originals), stopped_at)
