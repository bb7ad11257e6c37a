"""`v2p bag info|play|repair`: rosbag2 bags without the `ros2` CLI."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from v2p.bags.reader import BagInfo
from v2p.commands._options import add_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bag", help="inspect, replay and repair rosbag2 (MCAP) bags")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    info = verbs.add_parser("info", help="files, size, duration, topics and counts (as `ros2 bag info`)")
    info.add_argument("bag", type=Path, help="a bag folder, or a recording folder of bags")
    add_json(info)
    info.set_defaults(func=handle_info)

    play = verbs.add_parser("play", help="republish the recorded messages with their original timing")
    play.add_argument("bag", type=Path)
    play.add_argument("--rate", type=float, default=1.0, help="playback speed factor (default 1.0)")
    play.add_argument("--clock", type=float, nargs="?", const=100.0, default=None, metavar="HZ",
                      help="publish /clock with the bag time (default 100 Hz when given)")
    play.add_argument("--topics", nargs="+", default=None, help="only these topics")
    play.add_argument("--delay", type=float, default=1.0, help="seconds to wait for subscribers (default 1.0)")
    play.set_defaults(func=handle_play)

    repair = verbs.add_parser("repair", help="rewrite a bag whose recorder was killed, keeping its complete chunks")
    repair.add_argument("bag", type=Path, help="a bag folder, or a recording folder of bags")
    repair.set_defaults(func=handle_repair)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _stamp(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    return f"{time.strftime('%b %d %Y %H:%M:%S', time.localtime(secs))}.{frac:09d} ({secs}.{frac:09d})"


def format_info(info: BagInfo) -> str:
    pad = " " * 19
    base = info.path
    files = [str(f.relative_to(base)) if f.is_relative_to(base) else str(f) for f in info.files]
    lines = [f"Files:             {files[0] if files else ''}"] + [pad + f for f in files[1:]]
    lines += [
        f"Bag size:          {_size(info.size_bytes)}",
        f"Storage id:        {info.storage_identifier}",
        f"ROS Distro:        {info.ros_distro}",
        f"Duration:          {info.duration_ns / 1e9:.9f}s",
        f"Start:             {_stamp(info.start_ns)}",
        f"End:               {_stamp(info.end_ns)}",
        f"Messages:          {info.message_count}",
    ]
    topic_lines = [
        f"Topic: {t.name} | Type: {t.msgtype} | Count: {t.message_count} | Serialization Format: {t.serialization_format}"
        for t in info.topics
    ]
    lines.append(f"Topic information: {topic_lines[0] if topic_lines else ''}")
    lines += [pad + line for line in topic_lines[1:]]
    if len(info.bags) > 1:
        lines.append(f"Bags:              {len(info.bags)} (split recording)")
    return "\n".join(lines)


def handle_info(args: argparse.Namespace) -> int:
    from v2p.bags.reader import bag_info

    info = bag_info(args.bag)
    if args.json:
        print(json.dumps({
            "path": str(info.path),
            "bags": [str(b) for b in info.bags],
            "files": [str(f) for f in info.files],
            "size_bytes": info.size_bytes,
            "storage_identifier": info.storage_identifier,
            "ros_distro": info.ros_distro,
            "start_ns": info.start_ns,
            "end_ns": info.end_ns,
            "duration_ns": info.duration_ns,
            "message_count": info.message_count,
            "topics": [
                {"name": t.name, "type": t.msgtype, "count": t.message_count,
                 "serialization_format": t.serialization_format}
                for t in info.topics
            ],
        }))
    else:
        print(format_info(info))
    return 0


def handle_play(args: argparse.Namespace) -> int:
    from v2p.bags.play import play_bag

    try:
        result = play_bag(args.bag, rate=args.rate, clock_hz=args.clock, topics=args.topics, delay_s=args.delay)
    except KeyboardInterrupt:
        return 130
    print(f"published {result.published} messages on {result.topics} topics: "
          f"{result.bag_seconds:.3f} s of bag time in {result.wall_seconds:.3f} s")
    return 0


def handle_repair(args: argparse.Namespace) -> int:
    from v2p.bags.repair import repair_bag

    results = repair_bag(args.bag)
    if not results:
        print(f"{args.bag}: every bag is complete and readable; nothing to repair")
    for r in results:
        kept = ", ".join(str(p) for p in r.originals)
        print(f"{r.bag}: repaired, {r.messages} messages on {r.topics} topics kept "
              f"(reading stopped at: {r.stopped_at}); damaged file kept as {kept}")
    return 0
