"""The house rules a test can check: the task's vocabulary is defined once (in v2p.task), no import cycle in src/,
sim/ or ros2_ws/, no source file over 400 lines, every module says what it owns."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from v2p.task import topics
from v2p.task.dishwashing import ACTION, DISH_TYPES, ERROR_KINDS

REPO = Path(__file__).resolve().parents[2]
ROOTS = {"src": REPO / "src", "sim": REPO / "sim", "ros2_ws": REPO / "ros2_ws" / "src" / "v2p_ros"}
TASK_HOME = REPO / "src" / "v2p" / "task"
MAX_LINES = 400


def sources() -> list[Path]:
    return sorted(p for root in ROOTS.values() for p in root.rglob("*.py") if "__pycache__" not in p.parts
                  and p.name != "setup.py")


def module_name(path: Path) -> str:
    for root in ROOTS.values():
        if path.is_relative_to(root):
            rel = path.relative_to(root if root.name != "src" or path.is_relative_to(root / "v2p") else root)
            parts = list(rel.with_suffix("").parts)
            if root.name == "v2p_ros":
                parts = ["v2p_ros", *parts[1:]] if parts[0] == "v2p_ros" else parts
            return ".".join(p for p in parts if p != "__init__")
    raise AssertionError(path)


def vocabulary_literals() -> dict[str, re.Pattern]:
    """What may be written only in v2p.task: every topic name, the dish types, the error kinds, the action."""
    names = {v for k, v in vars(topics).items() if k.isupper() and isinstance(v, str) and v.startswith("/")
             and v != topics.ECON_PREFIX}
    quoted = r"""['"]{}['"]"""
    pats = {f"topic {n}": re.compile(quoted.format(re.escape(n))) for n in names}
    seq = r"""['"]{}['"]\s*,\s*['"]{}['"]"""
    pats["dish types"] = re.compile(seq.format(DISH_TYPES[0], DISH_TYPES[1]))
    pats["error kinds"] = re.compile(seq.format(ERROR_KINDS[0], ERROR_KINDS[1]))
    pats["action fields"] = re.compile(seq.format(*ACTION.fields))
    pats["the safe action"] = re.compile(r"\[\s*{}\s*,\s*{}\s*\]".format(*map(re.escape, map(repr, ACTION.safe))))
    return pats


def test_the_task_vocabulary_is_defined_once():
    stray = []
    for path in sources():
        if path.is_relative_to(TASK_HOME):
            continue
        text = path.read_text()
        for what, pattern in vocabulary_literals().items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                stray.append(f"{path.relative_to(REPO)}:{line}: {what}")
    assert not stray, "restated outside v2p.task:\n" + "\n".join(stray)


def test_the_scan_finds_a_planted_copy():
    planted = 'ACTION_TOPIC = "/policy/action"\nkinds = ("plate", "bowl", "glass")\n'
    hits = [what for what, pattern in vocabulary_literals().items() if pattern.search(planted)]
    assert "topic /policy/action" in hits and "dish types" in hits


def top_level_imports(path: Path, known: set[str]) -> set[str]:
    """Modules of ours imported at module level (not inside functions or `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    base = module_name(path)
    package = base if path.name == "__init__.py" else base.rpartition(".")[0]

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body + getattr(node, "orelse", []) + [s for h in getattr(node, "handlers", [])
                                                                 for s in h.body])
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:
                    mod = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([mod] if mod else []))
                found.add(mod)
                found.update(f"{mod}.{a.name}" for a in node.names)

    visit(tree.body)
    return {m for m in found if m in known}


def test_no_import_cycle():
    paths = {module_name(p): p for p in sources()}
    known = set(paths)
    graph = {m: top_level_imports(p, known) - {m} for m, p in paths.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                # a package importing its own submodule in __init__ is not a cycle of modules
                if not all(c.startswith(cycle[0] + ".") or cycle[0].startswith(c) for c in cycle[1:]):
                    pytest.fail("import cycle: " + " -> ".join(cycle))
            elif n not in state:
                walk(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            walk(m)


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_source_files_are_small_and_say_what_they_own(path):
    lines = path.read_text().count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines (at most {MAX_LINES})"
    if path.stat().st_size:
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path.relative_to(REPO)} has no module docstring"
