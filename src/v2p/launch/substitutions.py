"""Substitutions of the ROS 2 launch frontends: `$(var x)`, `$(env X default)`, `$(find-pkg-share p)`, ...

Text is parsed into parts (plain strings and `Substitution`s, which may nest) and evaluated against a scope.
`$(eval ...)` evaluates a small, safe subset of Python expressions (literals, arithmetic, comparisons, and/or/not,
if-else, a few builtins), never `eval()`.
"""

from __future__ import annotations

import ast
import operator
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from v2p.launch.errors import LaunchError

if TYPE_CHECKING:
    from v2p.launch.parser import Scope


@dataclass(frozen=True)
class Substitution:
    name: str
    args: tuple[tuple[Part, ...], ...]


Part = str | Substitution
Parts = tuple[Part, ...]


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


def _arity(sub: Substitution, scope: Scope, lo: int, hi: int) -> list[str]:
    if not lo <= len(sub.args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise LaunchError(f"{scope.where}: $({sub.name} ...) takes {want} argument(s), got {len(sub.args)}")
    return [evaluate(a, scope) for a in sub.args]


def truthy(value: str, where: str) -> bool:
    """A launch condition: true/false/1/0 in any case, as `ros2 launch` accepts them."""
    text = value.strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise LaunchError(f"{where}: condition value {value!r} is not one of true, false, 1, 0")


def _evaluate_one(sub: Substitution, scope: Scope) -> str:
    name = sub.name
    if name == "var":
        (key,) = _arity(sub, scope, 1, 1)
        if key not in scope.configurations:
            known = ", ".join(sorted(scope.configurations)) or "none"
            raise LaunchError(f"{scope.where}: $(var {key}): no launch argument or variable '{key}' (defined: {known})")
        return scope.configurations[key]
    if name in ("env", "optenv"):
        args = _arity(sub, scope, 1, 2)
        if args[0] in scope.env:
            return scope.env[args[0]]
        if len(args) == 2:
            return args[1]
        if name == "optenv":
            return ""
        raise LaunchError(f"{scope.where}: $(env {args[0]}): environment variable not set and no default given")
    if name == "find-pkg-share":
        (pkg,) = _arity(sub, scope, 1, 1)
        return str(scope.packages.share(pkg, scope.where))
    if name == "find-pkg-prefix":
        (pkg,) = _arity(sub, scope, 1, 1)
        return str(scope.packages.prefix(pkg, scope.where))
    if name == "dirname":
        _arity(sub, scope, 0, 0)
        return str(scope.file.parent)
    if name == "filename":
        _arity(sub, scope, 0, 0)
        return scope.file.name
    if name == "anon":
        (base,) = _arity(sub, scope, 1, 1)
        return scope.anonymous.setdefault(base, f"{base}_{os.getpid()}_{uuid.uuid4().hex[:8]}")
    if name == "eval":
        (expr,) = _arity(sub, scope, 1, 1)
        return str(safe_eval(expr, scope.where))
    if name in ("equals", "not-equals"):
        left, right = _arity(sub, scope, 2, 2)
        same = _normalize(left) == _normalize(right)
        return str(same if name == "equals" else not same).lower()
    if name == "not":
        (value,) = _arity(sub, scope, 1, 1)
        return str(not truthy(value, scope.where)).lower()
    if name in ("and", "or"):
        values = [truthy(v, scope.where) for v in _arity(sub, scope, 2, 2)]
        return str(all(values) if name == "and" else any(values)).lower()
    raise LaunchError(
        f"{scope.where}: substitution $({name} ...) is not supported by v2p launch "
        "(supported: var, env, optenv, find-pkg-share, find-pkg-prefix, dirname, filename, anon, eval, "
        "equals, not-equals, not, and, or)"
    )


def _normalize(text: str) -> str:
    lowered = text.strip().lower()
    return lowered if lowered in ("true", "false") else text


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_CALLS: dict[str, Callable[..., Any]] = {
    "int": int, "float": float, "str": str, "bool": bool, "abs": abs, "min": min, "max": max, "round": round,
    "len": len,
}


def safe_eval(expr: str, where: str) -> Any:
    """Evaluate the expression subset `$(eval ...)` files use, or raise a LaunchError naming the construct."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise LaunchError(f"{where}: $(eval {expr!r}): not a valid expression ({exc.msg})") from None

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name) and node.id in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[node.id]
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [ev(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.UnaryOp):
            value = ev(node.operand)
            if isinstance(node.op, ast.Not):
                return not value
            if isinstance(node.op, ast.USub):
                return -value
            if isinstance(node.op, ast.UAdd):
                return +value
        if isinstance(node, ast.BoolOp):
            values = (ev(v) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            left = ev(node.left)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = ev(right_node)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return ev(node.body) if ev(node.test) else ev(node.orelse)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _CALLS
            and not node.keywords
        ):
            return _CALLS[node.func.id](*(ev(a) for a in node.args))
        raise LaunchError(
            f"{where}: $(eval {expr!r}): '{ast.unparse(node)}' is not supported by v2p launch "
            "(only literals, arithmetic, comparisons, and/or/not, if-else and int/float/str/bool/abs/min/max/"
            "round/len)"
        )

    try:
        return ev(tree)
    except LaunchError:
        raise
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise LaunchError(f"{where}: $(eval {expr!r}) failed: {exc}") from None
