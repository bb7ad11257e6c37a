"""Node parameters as launch_ros passes them: the `param` entities of a node (a name and value, nested names,
or a parameter file) and `set_parameter` values, typed as `ros2 launch` types them and written as the
`-p name:=value` / `--params-file` words of the node's command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from v2p.launch.attributes import Attr, Attributes, Kind, Schema
from v2p.launch.errors import LaunchError
from v2p.launch.scope import Scope
from v2p.launch.substitutions import substitute

# A nested parameter (`param: [{name: limits, param: [{name: lo, value: 1}]}]`) has a name and a value or more
# nested parameters; a parameter file (`from`) only at the top, as launch_ros reads them.
NESTED_PARAM: Schema = Schema(
    "param",
    (Attr("name", required=True), Attr("value", Kind.VALUE), Attr("param", Kind.ENTITIES, entity=lambda: NESTED_PARAM)),
    exclusive=(("value", "param"),),
)
PARAM = Schema(
    "param",
    (Attr("name"), Attr("value", Kind.VALUE), Attr("from"), Attr("param", Kind.ENTITIES, entity=lambda: NESTED_PARAM)),
    exclusive=(("from", "name"), ("from", "value"), ("from", "param"), ("value", "param")),
    one_of=("name", "from"),
)


def param_value(raw: Any, scope: Scope) -> Any:
    """A parameter value as `ros2 launch` types it: YAML scalars as they are, strings substituted then YAML-typed."""
    if isinstance(raw, list):
        return [param_value(v, scope) for v in raw]
    if not isinstance(raw, str):
        return raw
    text = substitute(raw, scope, scope.where)
    try:
        typed = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return typed if isinstance(typed, (bool, int, float, str, list)) else text


def render(value: Any) -> str:
    """A value for `-p name:=value`, written so that the node's YAML parser reads back the same type."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30).strip()
    return text[: -len("\n...")] if text.endswith("\n...") else text  # drop YAML's end-of-document marker


def param_words(params: list[Attributes]) -> list[str]:
    """The command-line words of a node's `param` entities, in order."""
    out: list[str] = []
    for param in params:
        if "from" in param:
            path = Path(param.required("from"))
            _check_params_file(path, param.where)
            out += ["--params-file", str(path.resolve())]
            continue
        for name, value in _flatten(param, prefix=""):
            out += ["-p", f"{name}:={render(value)}"]
    return out


def _flatten(param: Attributes, prefix: str) -> list[tuple[str, Any]]:
    full = f"{prefix}{param.required('name')}"
    if "param" in param:
        return [item for nested in param.entities("param") for item in _flatten(nested, f"{full}.")]
    if "value" not in param:
        raise LaunchError(f"{param.where}: param {full}: missing 'value'")
    return [(full, param_value(param.raw("value"), param.at("value")))]


def _check_params_file(path: Path, where: str) -> None:
    if not path.is_file():
        raise LaunchError(f"{where}: param: parameter file {path} not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LaunchError(f"{where}: param: parameter file {path} is not readable YAML: {exc}") from None
    if not isinstance(data, dict):
        raise LaunchError(f"{where}: param: parameter file {path} must hold a mapping of node names")
