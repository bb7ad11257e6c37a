"""`$(eval ...)` expressions: a small, safe subset of Python (literals, arithmetic, comparisons, and/or/not,
if-else and a few builtins), evaluated by walking its syntax tree, never by `eval()`.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from v2p.launch.errors import LaunchError

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
