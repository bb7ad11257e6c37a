"""Attribute schemas of the launch actions and entities, with the value types ROS 2's launch demands.

launch_yaml never converts a value: `Entity.get_attr(name, data_type=...)` only accepts what YAML already typed
(a quoted "20.0" is a string, `true` a boolean, `2` an integer). The kinds here mirror the `data_type` that
launch, launch_ros and launch_yaml pass for each attribute, so that a file v2p launch accepts also loads under
`ros2 launch`. Where launch accepts a value only to misread it (a string for a boolean attribute is always true
to it; a string duration fails its `< 0.0` check) v2p launch refuses it too. Every check runs when a file is
loaded, before any action is evaluated, as launch parses a whole file first.

`Attributes` then reads checked values for an action, with substitutions applied.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from v2p.launch.errors import LaunchError
from v2p.launch.scope import Scope
from v2p.launch.substitutions import substitute, truthy
from v2p.launch.yaml_file import key_line, line_of

_SCALARS = (int, float, bool, str)


class Kind(enum.Enum):
    """The value types of attributes; each value is what an error message says is expected."""

    STRING = "a string (a number or true/false must be quoted, e.g. \"2\")"
    FLOAT = "a float written with a decimal point and not quoted, e.g. 5.0"
    INTEGER = "an integer, not quoted, e.g. 3"
    BOOLEAN = "true or false, not quoted (ROS 2's launch would take a quoted \"false\" as true)"
    VALUE = "a string, number or boolean, or a list of values of one of those types"
    ENTITIES = "a non-empty list of mappings"
    ACTIONS = "a list of actions"


def describe(value: Any) -> str:
    """A value as an error message names it."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the float {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "an empty list" if not value else "a list of " + ", ".join(sorted({type(v).__name__ for v in value}))
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _is_value(value: Any) -> bool:
    """launch's `is_instance_of_valid_type(value, can_be_str=True)`: a scalar, or a list whose items are all of
    one scalar type (strings may mix in, being substitutions)."""
    if isinstance(value, list):
        member = next((type(v) for v in value if type(v) is not str), str)
        return member in _SCALARS and all(isinstance(v, (member, str)) for v in value)
    return isinstance(value, _SCALARS)


_ACCEPTS: dict[Kind, Callable[[Any], bool]] = {
    Kind.STRING: lambda v: isinstance(v, str),
    Kind.FLOAT: lambda v: isinstance(v, float),
    Kind.INTEGER: lambda v: isinstance(v, int) and not isinstance(v, bool),
    Kind.BOOLEAN: lambda v: isinstance(v, bool),
    Kind.VALUE: _is_value,
    Kind.ENTITIES: lambda v: isinstance(v, list) and bool(v) and all(isinstance(i, dict) for i in v),
    Kind.ACTIONS: lambda v: isinstance(v, list),
}


@dataclass(frozen=True)
class Attr:
    name: str
    kind: Kind = Kind.STRING
    required: bool = False
    non_negative: bool = False  # launch refuses negative durations
    entity: Callable[[], Schema] | None = None  # ENTITIES: the schema of each item (a function: it may recurse)


@dataclass(frozen=True)
class Schema:
    """The attributes of one action or nested entity (`what`: its name in messages, e.g. "node", "param")."""

    what: str
    attrs: tuple[Attr, ...]
    exclusive: tuple[tuple[str, str], ...] = ()  # pairs of keys that must not appear together
    one_of: tuple[str, ...] = ()  # at least one of these keys must appear

    def names(self) -> list[str]:
        return sorted(a.name for a in self.attrs)

    def attr(self, name: str) -> Attr:
        return next(a for a in self.attrs if a.name == name)

    def check(self, mapping: Any, scope: Scope) -> None:
        """Refuse unknown keys, missing required ones and values of the wrong type, naming file, line and key."""
        where = f"{scope.file}:{line_of(mapping, scope.line)}"
        if not isinstance(mapping, dict):
            raise LaunchError(f"{where}: {self.what}: expected a mapping of attributes, got {describe(mapping)}")
        known = {a.name for a in self.attrs}
        if unknown := [k for k in mapping if k not in known]:
            raise LaunchError(f"{scope.file}:{key_line(mapping, unknown[0], scope.line)}: {self.what}: unsupported "
                              f"key(s) {', '.join(sorted(map(str, unknown)))} "
                              f"(v2p launch supports: {', '.join(self.names())})")
        for a, b in self.exclusive:
            if a in mapping and b in mapping:
                raise LaunchError(f"{where}: {self.what}: '{a}' and '{b}' are mutually exclusive")
        if self.one_of and not any(k in mapping for k in self.one_of):
            raise LaunchError(f"{where}: {self.what}: needs {' or '.join(repr(k) for k in self.one_of)}")
        for attr in self.attrs:
            if attr.name not in mapping:
                if attr.required:
                    raise LaunchError(f"{where}: {self.what}: missing required key '{attr.name}'")
                continue
            value = mapping[attr.name]
            at = f"{scope.file}:{key_line(mapping, attr.name, scope.line)}"
            if not _ACCEPTS[attr.kind](value):
                raise LaunchError(f"{at}: {self.what}: attribute '{attr.name}' must be {attr.kind.value}; "
                                  f"got {describe(value)}")
            if attr.non_negative and value < 0:
                raise LaunchError(f"{at}: {self.what}: attribute '{attr.name}' must not be negative, got {value}")
            if attr.entity is not None:
                schema = attr.entity()
                for item in value:
                    schema.check(item, scope)


class Attributes:
    """The checked attributes of one action or entity, read against a scope (substitutions applied)."""

    def __init__(self, schema: Schema, mapping: dict[str, Any], scope: Scope) -> None:
        self.schema, self.mapping, self.scope = schema, mapping, scope

    @property
    def where(self) -> str:
        return self.scope.where

    def at(self, name: str) -> Scope:
        """The scope, reporting the line of attribute `name`."""
        return self.scope.at(key_line(self.mapping, name, self.scope.line))

    def __contains__(self, name: str) -> bool:
        return name in self.mapping

    def raw(self, name: str) -> Any:
        return self.mapping.get(name)

    def text(self, name: str) -> str | None:
        """A STRING attribute with its substitutions evaluated; None when absent."""
        value = self.mapping.get(name)
        if value is None:
            return None
        scope = self.at(name)
        return substitute(value, scope, scope.where)

    def required(self, name: str) -> str:
        """A required STRING attribute (the schema check made sure it is there)."""
        text = self.text(name)
        assert text is not None, name
        return text

    def condition(self, name: str) -> bool:
        """A STRING attribute read as a launch condition (true/false/1/0 after substitution), e.g. `respawn`."""
        text = self.text(name)
        return text is not None and truthy(text, f"{self.at(name).where}: {self.schema.what}: '{name}'")

    def value(self, name: str, default: Any) -> Any:
        """A FLOAT, INTEGER or BOOLEAN attribute as YAML typed it (checked), else `default`."""
        return self.mapping.get(name, default)

    def entities(self, name: str) -> list[Attributes]:
        attr = self.schema.attr(name)
        assert attr.entity is not None, name
        schema = attr.entity()
        return [Attributes(schema, item, self.scope.at(line_of(item, self.scope.line)))
                for item in self.mapping.get(name) or []]
