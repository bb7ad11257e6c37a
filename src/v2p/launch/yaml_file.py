"""Reading a YAML launch file: its top-level action list, with the line of every mapping and of each of its keys.

Scalars are typed as by `yaml.safe_load`, which is what ROS 2's launch_yaml reads, so type checks agree with it.
Every failure is a LaunchError naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from v2p.launch.errors import LaunchError


class Mapping(dict):
    """A YAML mapping that remembers its line and the line of each key, for error messages."""

    line = 0  # 0: not from a file
    key_lines: dict[Any, int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = Mapping()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, _ in node.value:
        try:
            key = loader.construct_object(key_node)
            data.key_lines.setdefault(key, key_node.start_mark.line + 1)
        except TypeError:  # an unhashable key: construct_mapping has refused it already
            continue


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def line_of(entry: Any, default: int) -> int:
    """The line of a mapping from the file, else `default`."""
    return entry.line if isinstance(entry, Mapping) and entry.line else default


def key_line(mapping: Any, key: Any, default: int) -> int:
    """The line of a key of a mapping from the file, else the mapping's line, else `default`."""
    if isinstance(mapping, Mapping):
        return mapping.key_lines.get(key) or mapping.line or default
    return default


def load_yaml_launch(path: Path) -> list[Any]:
    """The top-level action list of a YAML launch file; every failure names the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LaunchError(f"{path}: launch file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LaunchError(f"{path}: cannot read launch file: {exc}") from None
    try:
        tree = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise LaunchError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(tree, dict) or list(tree) != ["launch"]:
        got = type(tree).__name__ if not isinstance(tree, dict) else ", ".join(map(str, tree)) or "nothing"
        raise LaunchError(f"{path}: a YAML launch file has one top-level key 'launch:' holding a list (got {got})")
    actions = tree["launch"]
    if actions is None:
        return []
    if not isinstance(actions, list):
        raise LaunchError(f"{path}:1: 'launch:' must hold a list of actions, got {type(actions).__name__}")
    return actions
