"""The launch actions that start processes, `node` and `executable`, registered in `ACTIONS`: their command
line (words split as launch splits them), parameters, remaps, environment and supervision settings, resolved
into a `ProcessSpec`.

Attribute types are those of launch's ExecuteProcess.parse and launch_ros's Node.parse.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from v2p.launch.actions import join_namespace
from v2p.launch.attributes import Attr, Attributes, Kind, Schema
from v2p.launch.description import DEFAULT_SIGKILL_TIMEOUT, DEFAULT_SIGTERM_TIMEOUT, OUTPUTS, ProcessSpec
from v2p.launch.errors import LaunchError
from v2p.launch.evaluation import Evaluation, action
from v2p.launch.parameters import PARAM, param_words, render
from v2p.launch.scope import Scope
from v2p.launch.substitutions import evaluate, parse

_NODE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ENV = Schema("env", (Attr("name", required=True), Attr("value", required=True)))
_REMAP = Schema("remap", (Attr("from", required=True), Attr("to", required=True)))

# Supervision, shared by node and executable. `respawn` is a string (a condition, possibly a substitution);
# the durations are floats, which launch compares with 0.0 before it runs anything.
_PROCESS = (
    Attr("output"), Attr("respawn"), Attr("respawn_delay", Kind.FLOAT, non_negative=True),
    Attr("respawn_max_retries", Kind.INTEGER), Attr("on_exit"), Attr("env", Kind.ENTITIES, entity=lambda: _ENV),
    Attr("cwd"), Attr("launch-prefix"), Attr("sigterm_timeout", Kind.FLOAT, non_negative=True),
    Attr("sigkill_timeout", Kind.FLOAT, non_negative=True), Attr("shell", Kind.BOOLEAN),
    Attr("emulate_tty", Kind.BOOLEAN),
)


@action("node", Attr("pkg"), Attr("exec", required=True), Attr("name"), Attr("namespace"), Attr("exec_name"),
        Attr("args"), Attr("ros_args"), Attr("param", Kind.ENTITIES, entity=lambda: PARAM),
        Attr("remap", Kind.ENTITIES, entity=lambda: _REMAP), *_PROCESS)
def _node(ev: Evaluation, attrs: Attributes) -> None:
    scope = attrs.scope
    exe = attrs.required("exec")
    pkg = attrs.text("pkg")
    program = str(scope.packages.executable(pkg, exe, scope.where)) if pkg else exe
    name = attrs.text("name")
    if name is not None and not _NODE_NAME.match(name):
        raise LaunchError(f"{scope.where}: node: name {name!r} is not a valid ROS node name")
    namespace = join_namespace(scope.ros_namespace, attrs.text("namespace") or "", scope.where)
    argv = [program] + _cmdline(attrs, "args")
    if "ros_args" in attrs:
        argv += ["--ros-args"] + _cmdline(attrs, "ros_args")
    argv.append("--ros-args")
    if name:
        argv += ["-r", f"__node:={name}"]
    if namespace:
        argv += ["-r", f"__ns:={namespace}"]
    for pname, value in scope.global_params:
        argv += ["-p", f"{pname}:={render(value)}"]
    argv += param_words(attrs.entities("param"))
    remaps = list(scope.remaps) + [(r.required("from"), r.required("to")) for r in attrs.entities("remap")]
    for src, dst in remaps:
        argv += ["-r", f"{src}:={dst}"]
    label = attrs.text("exec_name") or name or Path(exe).name
    _add_process(ev, attrs, label, argv, package=pkg, executable=exe, node_name=name, namespace=namespace or None)


@action("executable", Attr("cmd", required=True), Attr("name"), *_PROCESS)
def _executable(ev: Evaluation, attrs: Attributes) -> None:
    argv = _cmdline(attrs, "cmd")
    if not argv:
        raise LaunchError(f"{attrs.where}: executable: 'cmd' is empty")
    label = attrs.text("name") or Path(argv[0]).name
    _add_process(ev, attrs, label, argv, executable=argv[0])


def _add_process(ev: Evaluation, attrs: Attributes, label: str, argv: list[str], **spec: Any) -> None:
    scope, kind = attrs.scope, attrs.schema.what
    prefix = attrs.text("launch-prefix")
    if prefix:
        argv = _split_words(prefix, attrs.at("launch-prefix"), "launch-prefix") + argv
    if attrs.value("shell", False):
        raise LaunchError(f"{scope.where}: {kind}: 'shell: true' is not supported: v2p launch never runs a shell")
    if attrs.value("emulate_tty", False):
        raise LaunchError(f"{scope.where}: {kind}: 'emulate_tty: true' is not supported by v2p launch")
    output = attrs.text("output") or "log"
    if output not in OUTPUTS:
        raise LaunchError(f"{scope.where}: {kind}: output {output!r} is not one of {', '.join(OUTPUTS)}")
    on_exit = attrs.raw("on_exit")  # launch compares it as written, without substitutions
    if on_exit not in (None, "shutdown"):
        raise LaunchError(f"{scope.where}: {kind}: on_exit {on_exit!r} is not supported (only 'shutdown')")
    cwd = attrs.text("cwd")
    if cwd is not None and not Path(cwd).is_dir():
        raise LaunchError(f"{scope.where}: {kind}: cwd {cwd} is not a folder")
    env = dict(scope.env)
    for item in attrs.entities("env"):
        env[item.required("name")] = item.required("value")
    env.setdefault("PYTHONUNBUFFERED", "1")  # so that output lines reach the prefixed log as they happen
    ev.counter += 1
    ev.description.processes.append(ProcessSpec(
        label=f"{label}-{ev.counter}",
        argv=argv,
        env=env,
        cwd=cwd,
        output=output,
        respawn=attrs.condition("respawn"),
        respawn_delay=attrs.value("respawn_delay", 0.0),
        respawn_max_retries=attrs.value("respawn_max_retries", -1),
        shutdown_on_exit=on_exit == "shutdown",
        sigterm_timeout=attrs.value("sigterm_timeout", DEFAULT_SIGTERM_TIMEOUT),
        sigkill_timeout=attrs.value("sigkill_timeout", DEFAULT_SIGKILL_TIMEOUT),
        source=scope.where,
        **spec,
    ))


def _split_words(text: str, scope: Scope, what: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise LaunchError(f"{scope.where}: {what}: {exc} in {text!r}") from None


def _cmdline(attrs: Attributes, name: str) -> list[str]:
    """Split a command line into words: blanks separate words, quotes group them, and a substitution's value
    always stays within its word (it is never split, even when it contains blanks)."""
    value = attrs.raw(name)
    if value is None:
        return []
    scope = attrs.at(name)
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quote = ""
    for part in parse(value, scope.where):
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
        raise LaunchError(f"{scope.where}: {attrs.schema.what} {name}: no closing quotation in {value!r}")
    if in_word:
        words.append("".join(current))
    return words
