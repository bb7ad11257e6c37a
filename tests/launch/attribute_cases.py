"""Launch files that differ in one attribute's type, for each type class ROS 2's launch checks, with what ROS 2's
launch makes of them (checked against the real launch in test_ros2_launch.py) and what v2p launch must say.

- REFUSED: ROS 2's launch refuses the file; v2p launch must refuse it too, naming the attribute and the type.
- STRICTER: ROS 2's launch parses the file but misreads the value (a string for a boolean is always true to it, a
  string retry count breaks its comparison on the first respawn); v2p launch refuses it.
- ACCEPTED: both load the file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    actions: str  # the `launch:` list, one action per line
    refused: str | None  # a regex of v2p launch's error, None: v2p launch loads the file
    ros2: str | None = None  # REFUSED: a regex of ROS 2's launch error (its message and traceback)


REFUSED = [
    # STRING attributes (launch's default data_type=str)
    Case("string-respawn-bool", "- node: {exec: talker, respawn: true}", r"'respawn' must be a string",
         ros2=r"Attribute 'respawn' of Entity 'node' expected to be of type '<class 'str'>'"),
    Case("string-set_parameter-bool", "- set_parameter: {name: use_sim_time, value: true}",
         r"set_parameter: attribute 'value' must be a string",
         ros2=r"Attribute 'value' of Entity 'set_parameter' expected to be of type '<class 'str'>'"),
    Case("string-arg-default-int", "- arg: {name: n, default: 2}", r"arg: attribute 'default' must be a string",
         ros2=r"Attribute 'default' of Entity 'arg' expected to be of type '<class 'str'>'"),
    Case("string-let-float", "- let: {name: x, value: 1.5}",
         r"let: attribute 'value' must be a string .*; got the float 1.5",
         ros2=r"Attribute 'value' of Entity 'let' expected to be of type '<class 'str'>'"),
    Case("string-cmd-list", "- executable: {cmd: [ls, -l]}", r"executable: attribute 'cmd' must be a string",
         ros2=r"Attribute 'cmd' of Entity 'executable' expected to be of type '<class 'str'>'"),
    Case("string-if-bool", "- executable: {cmd: ls, if: true}", r"executable: attribute 'if' must be a string",
         ros2=r"Attribute 'if' of Entity 'executable' expected to be of type '<class 'str'>'"),
    # FLOAT attributes (data_type=float, then compared with 0.0)
    Case("float-sigterm-string", "- node: {exec: talker, sigterm_timeout: \"20.0\"}",
         r"'sigterm_timeout' must be a float .*got the string '20.0'",
         ros2=r"if sigterm_timeout < 0.0"),
    Case("float-respawn_delay-int", "- node: {exec: talker, respawn_delay: 2}",
         r"'respawn_delay' must be a float .*got the integer 2",
         ros2=r"Attribute 'respawn_delay' of Entity 'node' expected to be of type '<class 'float'>'"),
    Case("float-respawn_delay-bool", "- executable: {cmd: ls, respawn_delay: true}", r"'respawn_delay' must be a float",
         ros2=r"Attribute 'respawn_delay' of Entity 'executable' expected to be of type '<class 'float'>'"),
    Case("float-sigkill-negative", "- executable: {cmd: ls, sigkill_timeout: -1.0}",
         r"'sigkill_timeout' must not be negative",
         ros2=r"Attribute sigkill_timeout of Entity \w+ expected to be a non-negative value"),
    # INTEGER attributes (data_type=int)
    Case("integer-retries-float", "- executable: {cmd: ls, respawn_max_retries: 2.5}",
         r"'respawn_max_retries' must be an integer",
         ros2=r"Attribute 'respawn_max_retries' of Entity 'executable' expected to be of type '<class 'int'>'"),
    # BOOLEAN attributes (data_type=bool)
    Case("boolean-scoped-int", "- group: {scoped: 1, children: [{let: {name: a, value: \"1\"}}]}",
         r"group: attribute 'scoped' must be true or false",
         ros2=r"Attribute 'scoped' of Entity 'group' expected to be of type '<class 'bool'>'"),
    Case("boolean-emulate_tty-int", "- executable: {cmd: ls, emulate_tty: 1}", r"'emulate_tty' must be true or false",
         ros2=r"Attribute 'emulate_tty' of Entity 'executable' expected to be of type '<class 'bool'>'"),
    # parameter values (data_type=None: a scalar or a list of one scalar type)
    Case("value-mixed-list", "- node: {exec: talker, param: [{name: p, value: [1, 2.5]}]}",
         r"param: attribute 'value' must be a string, number or boolean, or a list",
         ros2=r"Attribute 'value' of Entity 'param' expected to be of type 'None', got '<class 'list'>'"),
    Case("value-mapping", "- node: {exec: talker, param: [{name: p, value: {a: 1}}]}",
         r"param: attribute 'value' must be .*got a mapping",
         ros2=r"Attribute 'value' of Entity 'param' expected to be of type 'None', got '<class 'dict'>'"),
    Case("value-null", "- node: {exec: talker, param: [{name: p, value: null}]}",
         r"param: attribute 'value' must be .*got nothing",
         ros2=r"Attribute 'value' of Entity 'param' expected to be of type 'None', got '<class 'NoneType'>'"),
    # entity lists (data_type=List[Entity])
    Case("entities-empty", "- node: {exec: talker, remap: []}", r"'remap' must be a non-empty list of mappings",
         ros2=r"IndexError: list index out of range"),
    Case("entities-mapping", "- executable: {cmd: ls, env: {name: A, value: b}}",
         r"'env' must be a non-empty list of mappings; got a mapping",
         ros2=r"Attribute 'env' of Entity 'executable' expected to be a list of dictionaries"),
    Case("entities-strings", "- node: {exec: talker, param: [use_sim_time]}", r"'param' must be a non-empty list",
         ros2=r"Attribute 'param' of Entity 'node' expected to be a list of dictionaries"),
    # child actions
    Case("actions-group-without-children", "- group: {scoped: false}", r"group: missing required key 'children'",
         ros2=r"Expected entity `group` to have children entities"),
    # keys the action does not have (an executable's words are all in `cmd`)
    Case("unknown-executable-args", "- executable: {cmd: ls, args: \"-l\"}", r"executable: unsupported key\(s\) args",
         ros2=r"Unexpected key\(s\) found in `executable`: \{'args'\}"),
]

STRICTER = [
    Case("integer-retries-string", "- executable: {cmd: ls, respawn_max_retries: \"3\"}",
         r"'respawn_max_retries' must be an integer.*got the string '3'"),
    Case("integer-retries-bool", "- executable: {cmd: ls, respawn_max_retries: true}",
         r"'respawn_max_retries' must be an integer"),
    Case("boolean-scoped-string", "- group: {scoped: \"false\", children: [{let: {name: a, value: \"1\"}}]}",
         r"'scoped' must be true or false, not quoted"),
    Case("boolean-shell-string", "- executable: {cmd: ls, shell: \"false\"}", r"'shell' must be true or false"),
]

ACCEPTED = [
    Case("all-types", """\
- arg: {name: flag, default: "true", description: a flag, choice: [{value: "true"}, {value: "false"}]}
- let: {name: n, value: "2"}
- set_parameter: {name: use_sim_time, value: "true"}
- group:
    scoped: false
    forwarding: true
    keep: [{name: k, value: v}]
    children:
    - executable: {cmd: "true", shell: false, emulate_tty: false, sigkill_timeout: 0.5}
- node:
    if: $(var flag)
    exec: talker
    name: talker
    respawn: "$(var flag)"
    respawn_delay: 2.0
    respawn_max_retries: 3
    sigterm_timeout: 20.0
    env: [{name: A, value: b}]
    remap: [{from: a, to: b}]
    param:
    - {name: i, value: 1}
    - {name: f, value: 2.5}
    - {name: b, value: true}
    - {name: s, value: "$(var n)"}
    - {name: ints, value: [1, 2]}
    - {name: mixed_with_substitution, value: ["$(var n)", 1]}
    - {name: empty, value: []}
    - {name: nested, param: [{name: lo, value: 0.1}, {name: hi, value: 0.9}]}
""", None),
]

CASES = REFUSED + STRICTER + ACCEPTED


def launch_text(case: Case) -> str:
    return f"launch:\n{case.actions.rstrip()}\n"
