"""The launch actions that shape the scope rather than start processes: arg, let, set_env, unset_env,
push_ros_namespace, set_parameter, set_remap, log, include and group, registered in `ACTIONS`.

Each attribute's type is the one launch / launch_ros read it with (see `v2p.launch.attributes`).
"""

from __future__ import annotations

import re
from pathlib import Path

from v2p.launch.attributes import Attr, Attributes, Kind, Schema
from v2p.launch.description import LaunchArgument
from v2p.launch.errors import LaunchError
from v2p.launch.evaluation import Evaluation, action
from v2p.launch.parameters import param_value

_NAMESPACE = re.compile(r"^(/[A-Za-z_][A-Za-z0-9_]*)*/?$")

NAME_VALUE = (Attr("name", required=True), Attr("value", required=True))
_CHOICE = Schema("arg choice", (Attr("value", required=True),))
_KEEP = Schema("group keep", NAME_VALUE)
_INCLUDE_ARG = Schema("include arg", NAME_VALUE)


def join_namespace(base: str, ns: str, where: str) -> str:
    """`ns` pushed onto `base` as launch_ros does (absolute replaces), checked as a ROS namespace."""
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


@action("arg", Attr("name", required=True), Attr("default"), Attr("description"),
        Attr("choice", Kind.ENTITIES, entity=lambda: _CHOICE))
def _arg(ev: Evaluation, attrs: Attributes) -> None:
    scope = attrs.scope
    name = attrs.required("name")
    default = attrs.text("default")
    description = attrs.raw("description") or ""
    choices = tuple(choice.required("value") for choice in attrs.entities("choice"))
    ev.description.arguments.append(LaunchArgument(name, default, description, choices))
    if name not in scope.configurations:
        if default is None:
            raise LaunchError(f"{scope.where}: launch argument '{name}' is required "
                              f"({description or 'no description'}); give it as {name}:=VALUE")
        scope.configurations[name] = default
    if choices and scope.configurations[name] not in choices:
        raise LaunchError(f"{scope.where}: launch argument '{name}' is {scope.configurations[name]!r}; "
                          f"expected one of {', '.join(choices)}")


@action("let", *NAME_VALUE)
def _let(ev: Evaluation, attrs: Attributes) -> None:
    attrs.scope.configurations[attrs.required("name")] = attrs.required("value")


@action("set_env", *NAME_VALUE)
def _set_env(ev: Evaluation, attrs: Attributes) -> None:
    attrs.scope.env[attrs.required("name")] = attrs.required("value")


@action("unset_env", Attr("name", required=True))
def _unset_env(ev: Evaluation, attrs: Attributes) -> None:
    attrs.scope.env.pop(attrs.required("name"), None)


@action("push_ros_namespace", Attr("namespace", required=True))
def _push_ros_namespace(ev: Evaluation, attrs: Attributes) -> None:
    scope = attrs.scope
    scope.configurations["ros_namespace"] = join_namespace(scope.ros_namespace, attrs.required("namespace"),
                                                           scope.where)


@action("set_parameter", *NAME_VALUE)  # launch_ros reads the value as a string, then types it as YAML
def _set_parameter(ev: Evaluation, attrs: Attributes) -> None:
    attrs.scope.global_params.append((attrs.required("name"), param_value(attrs.raw("value"), attrs.at("value"))))


@action("set_remap", Attr("from", required=True), Attr("to", required=True))
def _set_remap(ev: Evaluation, attrs: Attributes) -> None:
    attrs.scope.remaps.append((attrs.required("from"), attrs.required("to")))


@action("log", Attr("message", required=True))
def _log(ev: Evaluation, attrs: Attributes) -> None:
    ev.description.messages.append(attrs.required("message"))


@action("include", Attr("file", required=True), Attr("arg", Kind.ENTITIES, entity=lambda: _INCLUDE_ARG))
def _include(ev: Evaluation, attrs: Attributes) -> None:
    scope = attrs.scope
    target = Path(attrs.required("file"))
    if not target.is_file():
        raise LaunchError(f"{scope.where}: include: launch file {target} not found")
    for arg in attrs.entities("arg"):
        scope.configurations[arg.required("name")] = arg.required("value")
    ev.run_file(target, scope)


@action("group", Attr("scoped", Kind.BOOLEAN), Attr("forwarding", Kind.BOOLEAN),
        Attr("keep", Kind.ENTITIES, entity=lambda: _KEEP), Attr("children", Kind.ACTIONS, required=True))
def _group(ev: Evaluation, attrs: Attributes) -> None:
    scope = attrs.scope
    children = attrs.raw("children")
    keep = {k.required("name"): k.required("value") for k in attrs.entities("keep")}
    if not attrs.value("scoped", True):
        scope.configurations.update(keep)
        ev.run_actions(children, scope)
        return
    inner = scope.copy()
    if not attrs.value("forwarding", True):
        inner.configurations = {}
        inner.env = dict(ev.base_env)
        inner.global_params, inner.remaps = [], []
    inner.configurations.update(keep)
    ev.run_actions(children, inner)
