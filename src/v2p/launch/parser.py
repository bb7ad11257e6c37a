"""Parse a ROS 2 YAML launch file (the `launch_yaml` frontend format) into the processes to run.

Supported actions: arg, let, node, executable, include (YAML files), group (scoped, forwarding, keep, children),
push_ros_namespace, set_env, unset_env, set_parameter, set_remap, log; `if`/`unless` on every action; the
substitutions of `v2p.launch.substitutions`. Anything else is a LaunchError naming the file, the line and the
construct. Actions are evaluated in file order, as `ros2 launch` executes them.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from v2p.launch.errors import LaunchError
from v2p.launch.packages import PackageFinder
from v2p.launch.substitutions import evaluate, parse, substitute, truthy

OUTPUTS = ("screen", "log", "both")
DEFAULT_SIGTERM_TIMEOUT = 5.0
DEFAULT_SIGKILL_TIMEOUT = 5.0
_NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NAMESPACE = re.compile(r"^(/[A-Za-z_][A-Za-z0-9_]*)*/?$")


@dataclass(frozen=True)
class LaunchArgument:
    name: str
    default: str | None
    description: str
    choices: tuple[str, ...] = ()


@dataclass
class ProcessSpec:
    """One process to run, fully resolved."""

    label: str  # the output prefix, e.g. "talker-1"
    argv: list[str]
    env: dict[str, str]
    cwd: str | None = None
    output: str = "log"
    respawn: bool = False
    respawn_delay: float = 0.0
    respawn_max_retries: int = -1  # negative: no limit
    shutdown_on_exit: bool = False  # `on_exit: shutdown`: its exit ends the whole launch
    sigterm_timeout: float = DEFAULT_SIGTERM_TIMEOUT
    sigkill_timeout: float = DEFAULT_SIGKILL_TIMEOUT
    package: str | None = None
    executable: str = ""
    node_name: str | None = None
    namespace: str | None = None
    source: str = ""  # file:line of the action


@dataclass
class LaunchDescription:
    path: Path
    arguments: list[LaunchArgument] = field(default_factory=list)
    configurations: dict[str, str] = field(default_factory=dict)
    processes: list[ProcessSpec] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # `log` actions, in order


class _Mapping(dict):
    """A YAML mapping that remembers its line, for error messages."""

    line = 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = _Mapping()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


@dataclass
class Scope:
    file: Path
    line: int
    configurations: dict[str, str]
    env: dict[str, str]
    packages: PackageFinder
    anonymous: dict[str, str]
    global_params: list[tuple[str, Any]] = field(default_factory=list)
    remaps: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ros_namespace(self) -> str:
        # A launch configuration, as in launch_ros: scoped groups pop it with the other configurations.
        return self.configurations.get("ros_namespace", "")

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def at(self, line: int) -> Scope:
        """The same scope (shared state), reporting another line."""
        return replace(self, line=line)

    def copy(self) -> Scope:
        """A scope whose changes do not leak out (a scoped group)."""
        return replace(
            self,
            configurations=dict(self.configurations),
            env=dict(self.env),
            global_params=list(self.global_params),
            remaps=list(self.remaps),
        )


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


class _Builder:
    def __init__(self, cli_args: dict[str, str], env: dict[str, str]) -> None:
        self.cli_args = cli_args
        self.base_env = env
        self.description: LaunchDescription | None = None
        self.mentioned_args: set[str] = set()
        self.counter = 0
        self.include_stack: list[Path] = []

    # -- helpers -------------------------------------------------------------------------------------------------

    @staticmethod
    def _line(entry: Any, scope: Scope) -> int:
        return entry.line if isinstance(entry, _Mapping) else scope.line

    @staticmethod
    def _check_keys(kind: str, attrs: dict[str, Any], allowed: set[str], scope: Scope) -> None:
        unknown = sorted(set(attrs) - allowed - {"if", "unless"})
        if unknown:
            raise LaunchError(
                f"{scope.where}: {kind}: unsupported key(s) {', '.join(unknown)} "
                f"(v2p launch supports: {', '.join(sorted(allowed | {'if', 'unless'}))})"
            )

    @staticmethod
    def _text(attrs: dict[str, Any], key: str, scope: Scope, kind: str, *, required: bool = False) -> str | None:
        if key not in attrs or attrs[key] is None:
            if required:
                raise LaunchError(f"{scope.where}: {kind}: missing required key '{key}'")
            return None
        value = attrs[key]
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (int, float)):
            return str(value)
        if not isinstance(value, str):
            raise LaunchError(f"{scope.where}: {kind}: '{key}' must be a string, got {type(value).__name__}")
        return substitute(value, scope, scope.where)

    def _bool(self, attrs: dict[str, Any], key: str, scope: Scope, kind: str, default: bool) -> bool:
        text = self._text(attrs, key, scope, kind)
        return default if text is None else truthy(text, f"{scope.where}: {kind}: '{key}'")

    def _float(self, attrs: dict[str, Any], key: str, scope: Scope, kind: str, default: float) -> float:
        text = self._text(attrs, key, scope, kind)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            raise LaunchError(f"{scope.where}: {kind}: '{key}' must be a number, got {text!r}") from None
        if value < 0:
            raise LaunchError(f"{scope.where}: {kind}: '{key}' must not be negative, got {value}")
        return value

    def _entities(self, attrs: dict[str, Any], key: str, scope: Scope, kind: str) -> list[dict[str, Any]]:
        items = attrs.get(key)
        if items is None:
            return []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise LaunchError(f"{scope.where}: {kind}: '{key}' must be a list of mappings")
        return items

    def _condition(self, attrs: dict[str, Any], scope: Scope, kind: str) -> bool:
        if "if" in attrs and not truthy(self._text(attrs, "if", scope, kind) or "", f"{scope.where}: {kind}: if"):
            return False
        if "unless" in attrs and truthy(self._text(attrs, "unless", scope, kind) or "", f"{scope.where}: {kind}: unless"):
            return False
        return True

    # -- files and actions ---------------------------------------------------------------------------------------

    def run_file(self, path: Path, scope: Scope) -> None:
        path = path.resolve()
        if path in self.include_stack:
            raise LaunchError(f"{scope.where}: include cycle: {' -> '.join(map(str, self.include_stack + [path]))}")
        if path.suffix not in (".yaml", ".yml"):
            raise LaunchError(f"{scope.where}: only YAML launch files are supported by v2p launch, not {path.name}")
        actions = load_yaml_launch(path)
        self.include_stack.append(path)
        file_scope = replace(scope, file=path, line=1)  # shared state: an include is not scoped
        self.run_actions(actions, file_scope)
        self.include_stack.pop()

    def run_actions(self, actions: list[Any], scope: Scope) -> None:
        for index, entry in enumerate(actions):
            here = scope.at(self._line(entry, scope))
            if not isinstance(entry, dict) or len(entry) != 1:
                raise LaunchError(f"{here.where}: action #{index + 1} must be a mapping with exactly one key "
                                  "(the action type, e.g. 'node:')")
            (kind, attrs), = entry.items()
            handler = getattr(self, "do_" + str(kind).replace("-", "_"), None)
            if handler is None:
                raise LaunchError(
                    f"{here.where}: action '{kind}' is not supported by v2p launch (supported: arg, let, node, "
                    "executable, include, group, push_ros_namespace, set_env, unset_env, set_parameter, set_remap, log)"
                )
            if kind == "group":
                handler(attrs, here)
                continue
            if not isinstance(attrs, dict):
                raise LaunchError(f"{here.where}: {kind}: expected a mapping of keys, got {type(attrs).__name__}")
            if kind == "arg" and isinstance(attrs.get("name"), str):
                self.mentioned_args.add(attrs["name"])
            if self._condition(attrs, here, kind):
                handler(attrs, here)

    def do_arg(self, attrs: dict[str, Any], scope: Scope) -> None:
        self._check_keys("arg", attrs, {"name", "default", "description", "choice"}, scope)
        name = self._text(attrs, "name", scope, "arg", required=True)
        assert name is not None
        default = self._text(attrs, "default", scope, "arg")
        description = str(attrs.get("description") or "")
        choices = tuple(self._text(c, "value", scope, "arg choice", required=True) or ""
                        for c in self._entities(attrs, "choice", scope, "arg"))
        assert self.description is not None
        self.description.arguments.append(LaunchArgument(name, default, description, choices))
        if name not in scope.configurations:
            if default is None:
                raise LaunchError(f"{scope.where}: launch argument '{name}' is required ({description or 'no description'}); "
                                  f"give it as {name}:=VALUE")
            scope.configurations[name] = default
        if choices and scope.configurations[name] not in choices:
            raise LaunchError(f"{scope.where}: launch argument '{name}' is {scope.configurations[name]!r}; "
                              f"expected one of {', '.join(choices)}")

    def do_let(self, attrs: dict[str, Any], scope: Scope) -> None:
        self._check_keys("let", attrs, {"name", "value"}, scope)
        name = self._text(attrs, "name", scope, "let", required=True)
        scope.configurations[str(name)] = self._text(attrs, "value", scope, "let", required=True) or ""

    def do_set_env(self, attrs: dict[str, Any], scope: Scope) -> None:
        self._check_keys("set_env", attrs, {"name", "value"}, scope)
        name = self._text(attrs, "name", scope, "set_env", required=True)
        scope.env[str(name)] = self._text(attrs, "value", scope, "set_env", required=True) or ""

    def do_unset_env(self, attrs: dict[str, Any], scope: Scope) -> None:
        self._check_keys("unset_env", attrs, {"name"}, scope)
        scope.env.pop(str(self._text(attrs, "name", scope, "unset_env", required=True)), None)

    def do_push_ros_namespace(self, attrs: dict[str, Any], scope: Scope) -> None:
        self._check_keys("push_ros_namespace", attrs, {"namespace"}, scope)
        ns = self._text(attrs, "namespace", scope, "push_ros_namespace", required=True) or ""
        scope.configurations["ros_namespace"] = _join_namespace(scope.ros_namespace, ns, scope.where)

    def do_set_parameter(self, attrs: dict[str, Any], scope: Scope) -> None:
        self._check_keys("set_parameter", attrs, {"name", "value"}, scope)
        name = self._text(attrs, "name", scope, "set_parameter", required=True)
        if "value" not in attrs:
            raise LaunchError(f"{scope.where}: set_parameter: missing required key 'value'")
        scope.global_params.append((str(name), _param_value(attrs["value"], scope)))

    def do_set_remap(self, attrs: dict[str, Any], scope: Scope) -> None:
        self._check_keys("set_remap", attrs, {"from", "to"}, scope)
        scope.remaps.append((self._text(attrs, "from", scope, "set_remap", required=True) or "",
                             self._text(attrs, "to", scope, "set_remap", required=True) or ""))

    def do_log(self, attrs: dict[str, Any], scope: Scope) -> None:
        self._check_keys("log", attrs, {"message"}, scope)
        assert self.description is not None
        self.description.messages.append(self._text(attrs, "message", scope, "log", required=True) or "")

    def do_include(self, attrs: dict[str, Any], scope: Scope) -> None:
        self._check_keys("include", attrs, {"file", "arg"}, scope)
        target = Path(self._text(attrs, "file", scope, "include", required=True) or "")
        if not target.is_file():
            raise LaunchError(f"{scope.where}: include: launch file {target} not found")
        for arg in self._entities(attrs, "arg", scope, "include"):
            self._check_keys("include arg", arg, {"name", "value"}, scope)
            name = self._text(arg, "name", scope, "include arg", required=True)
            scope.configurations[str(name)] = self._text(arg, "value", scope, "include arg", required=True) or ""
        self.run_file(target, scope)

    def do_group(self, attrs: Any, scope: Scope) -> None:
        if isinstance(attrs, list):
            attrs = {"children": attrs}
        if not isinstance(attrs, dict):
            raise LaunchError(f"{scope.where}: group: expected a list of actions or a mapping with 'children'")
        self._check_keys("group", attrs, {"scoped", "forwarding", "keep", "children"}, scope)
        if not self._condition(attrs, scope, "group"):
            return
        children = attrs.get("children") or []
        if not isinstance(children, list):
            raise LaunchError(f"{scope.where}: group: 'children' must be a list of actions")
        scoped = self._bool(attrs, "scoped", scope, "group", True)
        forwarding = self._bool(attrs, "forwarding", scope, "group", True)
        keep = {str(self._text(k, "name", scope, "group keep", required=True)):
                self._text(k, "value", scope, "group keep", required=True) or ""
                for k in self._entities(attrs, "keep", scope, "group")}
        if not scoped:
            scope.configurations.update(keep)
            self.run_actions(children, scope)
            return
        inner = scope.copy()
        if not forwarding:
            inner.configurations = {}
            inner.env = dict(self.base_env)
            inner.global_params, inner.remaps = [], []
        inner.configurations.update(keep)
        self.run_actions(children, inner)

    def do_node(self, attrs: dict[str, Any], scope: Scope) -> None:
        kind = "node"
        self._check_keys(kind, attrs, _PROCESS_KEYS | {"pkg", "exec", "name", "namespace", "exec_name", "args",
                                                       "ros_args", "param", "remap"}, scope)
        exe = self._text(attrs, "exec", scope, kind, required=True) or ""
        pkg = self._text(attrs, "pkg", scope, kind)
        program = str(scope.packages.executable(pkg, exe, scope.where)) if pkg else exe
        name = self._text(attrs, "name", scope, kind)
        if name is not None and not _NODE_NAME.match(name):
            raise LaunchError(f"{scope.where}: node: name {name!r} is not a valid ROS node name")
        namespace = _join_namespace(scope.ros_namespace, self._text(attrs, "namespace", scope, kind) or "",
                                    scope.where)
        argv = [program] + _cmdline(attrs.get("args"), scope, f"{kind} args")
        if "ros_args" in attrs:
            argv += ["--ros-args"] + _cmdline(attrs["ros_args"], scope, f"{kind} ros_args")
        argv.append("--ros-args")
        if name:
            argv += ["-r", f"__node:={name}"]
        if namespace:
            argv += ["-r", f"__ns:={namespace}"]
        for pname, value in scope.global_params:
            argv += ["-p", f"{pname}:={_render(value)}"]
        argv += self._params(attrs, scope)
        remaps = list(scope.remaps)
        for remap in self._entities(attrs, "remap", scope, kind):
            self._check_keys("remap", remap, {"from", "to"}, scope)
            remaps.append((self._text(remap, "from", scope, "remap", required=True) or "",
                           self._text(remap, "to", scope, "remap", required=True) or ""))
        for src, dst in remaps:
            argv += ["-r", f"{src}:={dst}"]
        label = self._text(attrs, "exec_name", scope, kind) or name or Path(exe).name
        self._add_process(kind, attrs, scope, label, argv, package=pkg, executable=exe, node_name=name,
                          namespace=namespace or None)

    def do_executable(self, attrs: dict[str, Any], scope: Scope) -> None:
        kind = "executable"
        self._check_keys(kind, attrs, _PROCESS_KEYS | {"cmd", "args", "name"}, scope)
        if "cmd" not in attrs:
            raise LaunchError(f"{scope.where}: executable: missing required key 'cmd'")
        argv = _cmdline(attrs["cmd"], scope, "executable cmd") + _cmdline(attrs.get("args"), scope, "executable args")
        if not argv:
            raise LaunchError(f"{scope.where}: executable: 'cmd' is empty")
        label = self._text(attrs, "name", scope, kind) or Path(argv[0]).name
        self._add_process(kind, attrs, scope, label, argv, executable=argv[0])

    def _params(self, attrs: dict[str, Any], scope: Scope) -> list[str]:
        out: list[str] = []
        for param in self._entities(attrs, "param", scope, "node"):
            self._check_keys("param", param, {"name", "value", "from", "param"}, scope)
            if "from" in param:
                if "name" in param or "value" in param:
                    raise LaunchError(f"{scope.where}: param: 'from' and 'name'/'value' are mutually exclusive")
                path = Path(self._text(param, "from", scope, "param", required=True) or "")
                _check_params_file(path, scope)
                out += ["--params-file", str(path.resolve())]
                continue
            for pname, value in _flatten_param(param, scope, prefix=""):
                out += ["-p", f"{pname}:={_render(value)}"]
        return out

    def _add_process(self, kind: str, attrs: dict[str, Any], scope: Scope, label: str, argv: list[str],
                     **spec: Any) -> None:
        prefix = self._text(attrs, "launch-prefix", scope, kind)
        if prefix:
            argv = _split_words(prefix, scope, "launch-prefix") + argv
        if "shell" in attrs and self._bool(attrs, "shell", scope, kind, False):
            raise LaunchError(f"{scope.where}: {kind}: 'shell: true' is not supported: v2p launch never runs a shell")
        if "emulate_tty" in attrs and self._bool(attrs, "emulate_tty", scope, kind, False):
            raise LaunchError(f"{scope.where}: {kind}: 'emulate_tty: true' is not supported by v2p launch")
        output = self._text(attrs, "output", scope, kind) or "log"
        if output not in OUTPUTS:
            raise LaunchError(f"{scope.where}: {kind}: output {output!r} is not one of {', '.join(OUTPUTS)}")
        on_exit = self._text(attrs, "on_exit", scope, kind)
        if on_exit not in (None, "shutdown"):
            raise LaunchError(f"{scope.where}: {kind}: on_exit {on_exit!r} is not supported (only 'shutdown')")
        cwd = self._text(attrs, "cwd", scope, kind)
        if cwd is not None and not Path(cwd).is_dir():
            raise LaunchError(f"{scope.where}: {kind}: cwd {cwd} is not a folder")
        retries_text = self._text(attrs, "respawn_max_retries", scope, kind)
        try:
            retries = -1 if retries_text is None else int(retries_text)
        except ValueError:
            raise LaunchError(f"{scope.where}: {kind}: respawn_max_retries must be an integer") from None
        env = dict(scope.env)
        for item in self._entities(attrs, "env", scope, kind):
            self._check_keys("env", item, {"name", "value"}, scope)
            env[self._text(item, "name", scope, "env", required=True) or ""] = (
                self._text(item, "value", scope, "env", required=True) or "")
        env.setdefault("PYTHONUNBUFFERED", "1")  # so that output lines reach the prefixed log as they happen
        self.counter += 1
        assert self.description is not None
        self.description.processes.append(ProcessSpec(
            label=f"{label}-{self.counter}",
            argv=argv,
            env=env,
            cwd=cwd,
            output=output,
            respawn=self._bool(attrs, "respawn", scope, kind, False),
            respawn_delay=self._float(attrs, "respawn_delay", scope, kind, 0.0),
            respawn_max_retries=retries,
            shutdown_on_exit=on_exit == "shutdown",
            sigterm_timeout=self._float(attrs, "sigterm_timeout", scope, kind, DEFAULT_SIGTERM_TIMEOUT),
            sigkill_timeout=self._float(attrs, "sigkill_timeout", scope, kind, DEFAULT_SIGKILL_TIMEOUT),
            source=scope.where,
            **spec,
        ))


_PROCESS_KEYS = {"output", "respawn", "respawn_delay", "respawn_max_retries", "on_exit", "env", "cwd",
                 "launch-prefix", "sigterm_timeout", "sigkill_timeout", "shell", "emulate_tty"}


def _join_namespace(base: str, ns: str, where: str) -> str:
    if not ns:
        joined = base
    elif ns.startswith("/"):
        joined = ns
    else:
        joined = f"{base.rstrip('/')}/{ns}"
    if joined and not joined.startswith("/"):
        joined = "/" + joined
    joined = joined.rstrip("/") if joined != "/" else joined
    if joined and not _NAMESPACE.match(joined):
        raise LaunchError(f"{where}: namespace {joined!r} is not a valid ROS namespace")
    return joined


def _split_words(text: str, scope: Scope, what: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise LaunchError(f"{scope.where}: {what}: {exc} in {text!r}") from None


def _cmdline(value: Any, scope: Scope, what: str) -> list[str]:
    """Split a command line into words: blanks separate words, quotes group them, and a substitution's value
    always stays within its word (it is never split, even when it contains blanks)."""
    if value is None:
        return []
    if isinstance(value, list):  # also accept an explicit argv list
        return [substitute(str(v), scope, scope.where) for v in value]
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quote = ""
    for part in parse(str(value), scope.where):
        if not isinstance(part, str):
            current.append(evaluate((part,), scope))
            in_word = True
            continue
        for ch in part:
            if quote:
                if ch == quote:
                    quote = ""
                else:
                    current.append(ch)
            elif ch in ("'", '"'):
                quote, in_word = ch, True
            elif ch.isspace():
                if in_word:
                    words.append("".join(current))
                    current, in_word = [], False
            else:
                current.append(ch)
                in_word = True
    if quote:
        raise LaunchError(f"{scope.where}: {what}: no closing quotation in {value!r}")
    if in_word:
        words.append("".join(current))
    return words


def _param_value(raw: Any, scope: Scope) -> Any:
    """A parameter value as `ros2 launch` types it: YAML scalars as they are, strings substituted then YAML-typed."""
    if isinstance(raw, list):
        return [_param_value(v, scope) for v in raw]
    if not isinstance(raw, str):
        return raw
    text = substitute(raw, scope, scope.where)
    try:
        typed = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return typed if isinstance(typed, (bool, int, float, str, list)) else text


def _flatten_param(param: dict[str, Any], scope: Scope, prefix: str) -> list[tuple[str, Any]]:
    name = substitute(str(param.get("name", "")), scope, scope.where)
    if not name:
        raise LaunchError(f"{scope.where}: param: missing 'name' (or 'from' for a parameter file)")
    full = f"{prefix}{name}"
    if "param" in param:
        if "value" in param:
            raise LaunchError(f"{scope.where}: param {full}: 'value' and nested 'param' are mutually exclusive")
        nested = param["param"]
        if not isinstance(nested, list):
            raise LaunchError(f"{scope.where}: param {full}: nested 'param' must be a list")
        return [item for p in nested for item in _flatten_param(p, scope, f"{full}.")]
    if "value" not in param:
        raise LaunchError(f"{scope.where}: param {full}: missing 'value'")
    return [(full, _param_value(param["value"], scope))]


def _render(value: Any) -> str:
    """A value for `-p name:=value`, written so that the node's YAML parser reads back the same type."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30).strip()
    return text[: -len("\n...")] if text.endswith("\n...") else text  # drop YAML's end-of-document marker


def _check_params_file(path: Path, scope: Scope) -> None:
    if not path.is_file():
        raise LaunchError(f"{scope.where}: param: parameter file {path} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LaunchError(f"{scope.where}: param: parameter file {path} is not readable YAML: {exc}") from None
    if not isinstance(data, dict):
        raise LaunchError(f"{scope.where}: param: parameter file {path} must hold a mapping of node names")


def load_launch(
    path: Path | str,
    args: dict[str, str] | None = None,
    *,
    env: dict[str, str] | None = None,
) -> LaunchDescription:
    """Parse a launch file with the given `name:=value` arguments into what to run."""
    path = Path(path)
    cli_args = dict(args or {})
    base_env = dict(os.environ if env is None else env)
    builder = _Builder(cli_args, base_env)
    builder.description = LaunchDescription(path=path.resolve())
    scope = Scope(
        file=path.resolve(),
        line=1,
        configurations=dict(cli_args),
        env=dict(base_env),
        packages=PackageFinder(base_env),
        anonymous={},
    )
    builder.run_file(path, scope)
    if unknown := sorted(set(cli_args) - builder.mentioned_args):
        declared = ", ".join(sorted(builder.mentioned_args)) or "none"
        raise LaunchError(f"{path}: unknown launch argument(s) {', '.join(unknown)} (declared: {declared})")
    builder.description.configurations = dict(scope.configurations)
    return builder.description


def parse_cli_args(items: list[str]) -> dict[str, str]:
    """`name:=value` words from the command line."""
    args: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":=")
        if not sep or not name:
            raise LaunchError(f"launch argument {item!r} must be written name:=value")
        args[name] = value
    return args
