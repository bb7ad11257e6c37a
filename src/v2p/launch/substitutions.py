"""Substitutions of the ROS 2 launch frontends: `$(var x)`, `$(env X default)`, `$(find-pkg-share p)`, ...

Owns the `$(...)` syntax (text is parsed into plain strings and `Substitution`s, which may nest) and the
registry `SUBSTITUTIONS` of what each name evaluates to against a scope; its keys are the supported names.
`$(eval ...)` goes to `v2p.launch.expressions`, a safe subset of Python, never `eval()`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from v2p.launch.errors import LaunchError
from v2p.launch.expressions import safe_eval
from v2p.launch.registry import Registry
from v2p.launch.scope import Scope


@dataclass(frozen=True)
class Substitution:
    name: str
    args: tuple[tuple[Part, ...], ...]


Part = str | Substitution
Parts = tuple[Part, ...]
_Evaluate = Callable[[list[str], Scope], str]


class _Cursor:
    def __init__(self, text: str, where: str) -> None:
        self.text, self.i, self.where = text, 0, where

    def peek(self, n: int = 1) -> str:
        return self.text[self.i : self.i + n]

    def fail(self, problem: str) -> LaunchError:
        return LaunchError(f"{self.where}: {problem} in {self.text!r}")


def parse(text: str, where: str) -> Parts:
    """Split text into plain strings and substitutions."""
    cur = _Cursor(text, where)
    parts = _parse_sequence(cur, stop="")
    if cur.i != len(text):
        raise cur.fail(f"unexpected ')' at column {cur.i + 1}")
    return parts


def _parse_sequence(cur: _Cursor, stop: str) -> Parts:
    parts: list[Part] = []
    buf: list[str] = []
    while cur.i < len(cur.text):
        ch = cur.peek()
        if cur.peek(2) == "$(":
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(_parse_substitution(cur))
            continue
        if ch and ch in stop:
            break
        if ch == "\\" and cur.peek(2)[1:] in ("$", "\\", "'", '"'):  # escaped special character
            buf.append(cur.text[cur.i + 1])
            cur.i += 2
            continue
        buf.append(ch)
        cur.i += 1
    if buf:
        parts.append("".join(buf))
    return tuple(parts)


def _parse_substitution(cur: _Cursor) -> Substitution:
    start = cur.i
    cur.i += 2
    name_start = cur.i
    while cur.i < len(cur.text) and (cur.text[cur.i].isalnum() or cur.text[cur.i] in "-_"):
        cur.i += 1
    name = cur.text[name_start : cur.i]
    if not name:
        raise cur.fail(f"substitution without a name at column {start + 1}")
    args: list[Parts] = []
    while True:
        while cur.i < len(cur.text) and cur.text[cur.i].isspace():
            cur.i += 1
        if cur.i >= len(cur.text):
            raise cur.fail(f"unterminated substitution $({name} ...")
        ch = cur.peek()
        if ch == ")":
            cur.i += 1
            return Substitution(name, tuple(args))
        if ch in ("'", '"'):
            cur.i += 1
            arg = _parse_sequence(cur, stop=ch)
            if cur.peek() != ch:
                raise cur.fail(f"unterminated quote in $({name} ...")
            cur.i += 1
            args.append(arg)
        else:
            args.append(_parse_sequence(cur, stop=" \t\n)"))


def evaluate(parts: Parts, scope: Scope) -> str:
    return "".join(p if isinstance(p, str) else _evaluate_one(p, scope) for p in parts)


def substitute(text: str, scope: Scope, where: str) -> str:
    return evaluate(parse(text, where), scope)


def truthy(value: str, where: str) -> bool:
    """A launch condition: true/false/1/0 in any case, as `ros2 launch` accepts them."""
    text = value.strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise LaunchError(f"{where}: condition value {value!r} is not one of true, false, 1, 0")


@dataclass(frozen=True)
class _Definition:
    evaluate: Callable[[list[str], Scope], str]  # (evaluated arguments, scope) -> text
    arity: tuple[int, int]  # fewest and most arguments


SUBSTITUTIONS: Registry[_Definition] = Registry(lambda name: f"substitution $({name} ...)")


def substitution(name: str, arity: tuple[int, int]) -> Callable[[_Evaluate], _Evaluate]:
    """Register `fn(arguments, scope) -> text` as the substitution `$(name ...)` taking `arity` arguments."""
    def register(fn: _Evaluate) -> _Evaluate:
        SUBSTITUTIONS.add(name, _Definition(fn, arity))
        return fn
    return register


def _evaluate_one(sub: Substitution, scope: Scope) -> str:
    definition = SUBSTITUTIONS.get(sub.name, scope.where)
    lo, hi = definition.arity
    if not lo <= len(sub.args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise LaunchError(f"{scope.where}: $({sub.name} ...) takes {want} argument(s), got {len(sub.args)}")
    return definition.evaluate([evaluate(a, scope) for a in sub.args], scope)


@substitution("var", arity=(1, 1))
def _var(args: list[str], scope: Scope) -> str:
    (key,) = args
    if key not in scope.configurations:
        known = ", ".join(sorted(scope.configurations)) or "none"
        raise LaunchError(f"{scope.where}: $(var {key}): no launch argument or variable '{key}' (defined: {known})")
    return scope.configurations[key]


@substitution("env", arity=(1, 2))
def _env(args: list[str], scope: Scope) -> str:
    variable, *default = args
    if variable not in scope.env and not default:
        raise LaunchError(f"{scope.where}: $(env {variable}): environment variable not set and no default given")
    return scope.env.get(variable, default[0] if default else "")


@substitution("optenv", arity=(1, 2))
def _optenv(args: list[str], scope: Scope) -> str:
    variable, *default = args
    return scope.env.get(variable, default[0] if default else "")


@substitution("find-pkg-share", arity=(1, 1))
def _find_pkg_share(args: list[str], scope: Scope) -> str:
    return str(scope.packages.share(args[0], scope.where))


@substitution("find-pkg-prefix", arity=(1, 1))
def _find_pkg_prefix(args: list[str], scope: Scope) -> str:
    return str(scope.packages.prefix(args[0], scope.where))


@substitution("dirname", arity=(0, 0))
def _dirname(args: list[str], scope: Scope) -> str:
    return str(scope.file.parent)


@substitution("filename", arity=(0, 0))
def _filename(args: list[str], scope: Scope) -> str:
    return scope.file.name


@substitution("anon", arity=(1, 1))
def _anon(args: list[str], scope: Scope) -> str:
    (base,) = args
    return scope.anonymous.setdefault(base, f"{base}_{os.getpid()}_{uuid.uuid4().hex[:8]}")


@substitution("eval", arity=(1, 1))
def _eval(args: list[str], scope: Scope) -> str:
    return str(safe_eval(args[0], scope.where))


def _same(left: str, right: str) -> bool:
    """`$(equals)`: booleans compare in any case, anything else as written."""
    def normal(text: str) -> str:
        lowered = text.strip().lower()
        return lowered if lowered in ("true", "false") else text
    return normal(left) == normal(right)


@substitution("equals", arity=(2, 2))
def _equals(args: list[str], scope: Scope) -> str:
    return str(_same(*args)).lower()


@substitution("not-equals", arity=(2, 2))
def _not_equals(args: list[str], scope: Scope) -> str:
    return str(not _same(*args)).lower()


@substitution("not", arity=(1, 1))
def _not(args: list[str], scope: Scope) -> str:
    return str(not truthy(args[0], scope.where)).lower()


@substitution("and", arity=(2, 2))
def _and(args: list[str], scope: Scope) -> str:
    return str(all([truthy(v, scope.where) for v in args])).lower()


@substitution("or", arity=(2, 2))
def _or(args: list[str], scope: Scope) -> str:
    return str(any([truthy(v, scope.where) for v in args])).lower()
