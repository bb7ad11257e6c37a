"""v2p launch is as strict as ROS 2's launch on attribute types (the cases of attribute_cases.py; whether ROS 2's
launch really refuses them is checked in test_ros2_launch.py), and its lists of what it supports are its
registries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from attribute_cases import ACCEPTED, REFUSED, STRICTER, Case, launch_text
from v2p.launch import LaunchError, load_launch
from v2p.launch.evaluation import ACTIONS
from v2p.launch.substitutions import SUBSTITUTIONS


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", REFUSED + STRICTER, ids=lambda c: c.id)
def test_refused_types_are_errors_naming_file_line_attribute_and_type(tmp_path: Path, case: Case) -> None:
    path = write(tmp_path / "bad.launch.yaml", launch_text(case))
    with pytest.raises(LaunchError, match=case.refused) as info:
        load_launch(path)
    assert str(info.value).startswith(f"{path.resolve()}:2: "), info.value


def test_the_error_names_the_line_of_the_attribute_even_under_a_false_condition(tmp_path: Path) -> None:
    path = write(tmp_path / "lines.launch.yaml", """launch:
- group:
    if: "false"
    children:
    - node:
        exec: talker
        respawn: true
""")
    with pytest.raises(LaunchError, match=rf"^{re.escape(str(path.resolve()))}:7: node: attribute 'respawn' "
                       r"must be a string \(a number or true/false must be quoted"):
        load_launch(path)


def test_accepted_types_load_with_their_values(tmp_path: Path) -> None:
    (case,) = ACCEPTED
    desc = load_launch(write(tmp_path / "good.launch.yaml", launch_text(case)))
    shell_free, talker = desc.processes
    assert shell_free.argv == ["true"] and shell_free.sigkill_timeout == 0.5
    assert (talker.respawn, talker.respawn_delay, talker.respawn_max_retries, talker.sigterm_timeout) == (
        True, 2.0, 3, 20.0)
    assert talker.env["A"] == "b" and desc.configurations["k"] == "v"  # an unscoped group's keep stays
    words = talker.argv[talker.argv.index("--ros-args"):]
    assert words == ["--ros-args", "-r", "__node:=talker", "-p", "use_sim_time:=true", "-p", "i:=1", "-p", "f:=2.5",
                     "-p", "b:=true", "-p", "s:=2", "-p", "ints:=[1, 2]", "-p", "mixed_with_substitution:=[2, 1]",
                     "-p", "empty:=[]", "-p", "nested.lo:=0.1", "-p", "nested.hi:=0.9", "-r", "a:=b"]


def test_supported_lists_in_messages_are_the_registries(tmp_path: Path) -> None:
    assert ACTIONS.names() == ["arg", "let", "set_env", "unset_env", "push_ros_namespace", "set_parameter",
                               "set_remap", "log", "include", "group", "node", "executable"]
    with pytest.raises(LaunchError, match=re.escape(f"(supported: {', '.join(ACTIONS.names())})")):
        load_launch(write(tmp_path / "a.launch.yaml", "launch:\n- timer: {period: 1.0}\n"))
    assert {"var", "env", "optenv", "find-pkg-share", "dirname", "eval"} <= set(SUBSTITUTIONS.names())
    with pytest.raises(LaunchError, match=re.escape(f"(supported: {', '.join(SUBSTITUTIONS.names())})")):
        load_launch(write(tmp_path / "s.launch.yaml", "launch:\n- let: {name: a, value: \"$(command ls)\"}\n"))
    with pytest.raises(LaunchError, match=r"node: unsupported key\(s\) sneaky \(v2p launch supports: args, cwd, "
                       r"emulate_tty, env, exec, exec_name, if, launch-prefix, name, namespace, on_exit, output, "
                       r"param, pkg, remap, respawn, respawn_delay, respawn_max_retries, ros_args, shell, "
                       r"sigkill_timeout, sigterm_timeout, unless\)"):
        load_launch(write(tmp_path / "k.launch.yaml", "launch:\n- node: {exec: x, sneaky: 1}\n"))


def test_if_and_unless_together_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "both.launch.yaml", "launch:\n- executable: {cmd: ls, if: \"true\", unless: \"false\"}\n")
    with pytest.raises(LaunchError, match="'if' and 'unless' are mutually exclusive"):
        load_launch(path)
