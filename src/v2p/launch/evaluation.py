"""Evaluating launch files: the registry `ACTIONS` (what each action accepts and does) and the walk over a file.

A file is first checked whole against the actions' attribute schemas, as ROS 2's launch parses a whole file
before it runs any of it (so a wrong type is refused even under a false `if`); then its actions run in file
order against a scope, each one only when its `if`/`unless` holds. Actions register with `@action(name, ...)`
from `v2p.launch.actions` and `v2p.launch.processes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from v2p.launch.attributes import Attr, Attributes, Kind, Schema
from v2p.launch.description import LaunchDescription
from v2p.launch.errors import LaunchError
from v2p.launch.registry import Registry
from v2p.launch.scope import Scope
from v2p.launch.yaml_file import Mapping, line_of, load_yaml_launch

Run = Callable[["Evaluation", Attributes], None]


@dataclass(frozen=True)
class ActionType:
    schema: Schema
    run: Run

    @property
    def children(self) -> str | None:
        """The attribute holding child actions: an action written as a plain list is that list (a group)."""
        return next((a.name for a in self.schema.attrs if a.kind is Kind.ACTIONS), None)

    def attributes(self, value: Any) -> Any:
        """The attribute mapping of the action as written (a list-form group: its children)."""
        if isinstance(value, list) and self.children is not None:
            mapping = Mapping({self.children: value})
            mapping.key_lines = {}
            return mapping
        return value


ACTIONS: Registry[ActionType] = Registry(lambda name: f"action '{name}'")
_CONDITIONS = (Attr("if"), Attr("unless"))


def action(name: str, *attrs: Attr) -> Callable[[Run], Run]:
    """Register `fn(evaluation, attributes)` as the action `name` with these attributes (plus `if`/`unless`)."""
    def register(fn: Run) -> Run:
        ACTIONS.add(name, ActionType(Schema(name, attrs + _CONDITIONS, exclusive=(("if", "unless"),)), fn))
        return fn
    return register


class Evaluation:
    """One `load_launch`: the description being built and what spans files (arguments seen, include stack)."""

    def __init__(self, description: LaunchDescription, env: dict[str, str]) -> None:
        self.description = description
        self.base_env = env  # what a non-forwarding group starts from
        self.mentioned_args: set[str] = set()
        self.counter = 0  # processes so far: each label gets the next number, as `ros2 launch` does
        self.include_stack: list[Path] = []

    def run_file(self, path: Path, scope: Scope) -> None:
        path = path.resolve()
        if path in self.include_stack:
            raise LaunchError(f"{scope.where}: include cycle: {' -> '.join(map(str, self.include_stack + [path]))}")
        if path.suffix not in (".yaml", ".yml"):
            raise LaunchError(f"{scope.where}: only YAML launch files are supported by v2p launch, not {path.name}")
        actions = load_yaml_launch(path)
        file_scope = replace(scope, file=path, line=1)  # shared state: an include is not scoped
        self.check(actions, file_scope)
        self.include_stack.append(path)
        self.run_actions(actions, file_scope)
        self.include_stack.pop()

    @staticmethod
    def _entry(index: int, entry: Any, scope: Scope) -> tuple[ActionType, Any]:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise LaunchError(f"{scope.where}: action #{index + 1} must be a mapping with exactly one key "
                              "(the action type, e.g. 'node:')")
        (kind, value), = entry.items()
        action_type = ACTIONS.get(kind, scope.where)
        return action_type, action_type.attributes(value)

    def check(self, actions: list[Any], scope: Scope) -> None:
        """Check every action of a list, and the children of groups, against its schema."""
        for index, entry in enumerate(actions):
            here = scope.at(line_of(entry, scope.line))
            action_type, mapping = self._entry(index, entry, here)
            action_type.schema.check(mapping, here)
            if action_type.schema.what == "arg":  # declared, even under a false condition: a valid name:=value
                self.mentioned_args.add(mapping["name"])
            if (children := action_type.children) is not None:
                self.check(mapping[children], here)

    def run_actions(self, actions: list[Any], scope: Scope) -> None:
        """Run checked actions in order."""
        for index, entry in enumerate(actions):
            here = scope.at(line_of(entry, scope.line))
            action_type, mapping = self._entry(index, entry, here)
            attrs = Attributes(action_type.schema, mapping, here)
            if "if" in attrs and not attrs.condition("if"):
                continue
            if "unless" in attrs and attrs.condition("unless"):
                continue
            action_type.run(self, attrs)
