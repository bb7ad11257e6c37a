"""Parsing ROS 2 YAML launch files: argv, substitutions, scoping, and clear errors for what is unsupported."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from v2p.launch import LaunchError, load_launch, parse_cli_args
from v2p.launch.expressions import safe_eval


@pytest.fixture
def ament_prefix(tmp_path, monkeypatch) -> Path:
    """A ROS install prefix holding package demo_pkg with executable `talker` (as colcon installs it)."""
    prefix = tmp_path / "install"
    (prefix / "share/ament_index/resource_index/packages").mkdir(parents=True)
    (prefix / "share/ament_index/resource_index/packages/demo_pkg").write_text("")
    (prefix / "share/demo_pkg/config").mkdir(parents=True)
    (prefix / "share/demo_pkg/config/params.yaml").write_text("/**:\n  ros__parameters:\n    rate: 5.0\n")
    exe = prefix / "lib/demo_pkg/talker"
    exe.parent.mkdir(parents=True)
    exe.write_text(f"#!{sys.executable}\nprint('hi')\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(prefix))
    return prefix


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_node_argv_params_remaps_and_namespaces(tmp_path, ament_prefix):
    launch = write(tmp_path / "a.launch.yaml", """
launch:
- arg: {name: rate, default: "30.0", description: frames per second}
- arg: {name: site}
- set_parameter: {name: use_sim_time, value: "true"}  # a string, as launch_ros reads it
- group:
    - push_ros_namespace: {namespace: robot1}
    - node:
        pkg: demo_pkg
        exec: talker
        name: cam
        namespace: sensors
        output: screen
        respawn: "true"
        respawn_delay: 2.5
        args: "--mode fast"
        param:
        - {name: rate, value: "$(var rate)"}
        - {name: site, value: "$(var site)"}
        - {name: frame, value: "cam_$(var site)"}
        - {name: topics, value: [/a, /b]}
        - {name: limits, param: [{name: lo, value: 1}, {name: hi, value: 2}]}
        - {from: "$(find-pkg-share demo_pkg)/config/params.yaml"}
        remap: [{from: image, to: /camera/image_raw}]
- node: {pkg: demo_pkg, exec: talker, on_exit: shutdown}
""")
    desc = load_launch(launch, {"site": "kitchen", "rate": "15"})
    first, second = desc.processes
    assert first.argv == [
        str(ament_prefix / "lib/demo_pkg/talker"), "--mode", "fast", "--ros-args",
        "-r", "__node:=cam", "-r", "__ns:=/robot1/sensors",
        "-p", "use_sim_time:=true",
        "-p", "rate:=15", "-p", "site:=kitchen", "-p", "frame:=cam_kitchen", "-p", "topics:=[/a, /b]",
        "-p", "limits.lo:=1", "-p", "limits.hi:=2",
        "--params-file", str(ament_prefix / "share/demo_pkg/config/params.yaml"),
        "-r", "image:=/camera/image_raw",
    ]
    assert (first.label, first.output, first.respawn, first.respawn_delay) == ("cam-1", "screen", True, 2.5)
    assert first.source == f"{launch.resolve()}:8"
    # The scoped group popped its namespace: the second node is global; on_exit: shutdown makes it required.
    assert "-r" not in second.argv and second.shutdown_on_exit and second.label == "talker-2"
    assert [a.name for a in desc.arguments] == ["rate", "site"]


def test_substitutions_include_and_scoping(tmp_path, monkeypatch):
    monkeypatch.setenv("V2P_TEST_VALUE", "from-env")
    inner = write(tmp_path / "inner.launch.yaml", """
launch:
- arg: {name: who, default: nobody}
- let: {name: seen_by_parent, value: "$(var who)"}
- executable: {cmd: "echo inner $(var who) $(filename)", name: inner}
""")
    outer = write(tmp_path / "outer.launch.yaml", f"""
launch:
- arg: {{name: episodes, default: "2"}}
- let: {{name: doubled, value: "$(eval '$(var episodes) * 2')"}}
- set_env: {{name: V2P_SET, value: "yes"}}
- group:
    scoped: true
    children:
    - let: {{name: hidden, value: "x"}}
    - set_env: {{name: V2P_SCOPED, value: "1"}}
- include:
    file: "$(dirname)/inner.launch.yaml"
    arg: [{{name: who, value: "$(env V2P_TEST_VALUE)"}}]
- executable:
    cmd: "echo $(var doubled) $(var seen_by_parent) $(optenv V2P_UNSET fallback) a$(var episodes)b"
    if: "$(eval '$(var episodes) > 1')"
- executable: {{cmd: "echo never", unless: "true"}}
""")
    desc = load_launch(outer)
    inner_proc, outer_proc = desc.processes
    assert inner_proc.argv == ["echo", "inner", "from-env", "inner.launch.yaml"]
    assert outer_proc.argv == ["echo", "4", "from-env", "fallback", "a2b"]
    assert outer_proc.env["V2P_SET"] == "yes" and "V2P_SCOPED" not in outer_proc.env
    assert "hidden" not in desc.configurations and desc.configurations["seen_by_parent"] == "from-env"
    assert inner.exists()


@pytest.mark.parametrize("body, message", [
    ("- timer: {period: 1.0}", r":3: action 'timer' is not supported by v2p launch"),
    ("- executable: {cmd: ls, shell: true}", "never runs a shell"),
    ("- node: {exec: x, sneaky: 1}", r"node: unsupported key\(s\) sneaky"),
    ("- executable: {cmd: \"$(command ls)\"}", r"substitution \$\(command \.\.\.\) is not supported"),
    ("- executable: {cmd: \"$(var nope)\"}", "no launch argument or variable 'nope'"),
    ("- executable: {cmd: \"$(var x\"}", "unterminated substitution"),
    ("- executable: {cmd: \"$(eval '__import__(1)')\"}", "is not supported by v2p launch"),
    ("- arg: {name: needed, description: the site}", "launch argument 'needed' is required"),
    ("- node: {exec: x, param: [{from: /nonexistent/params.yaml}]}", "parameter file /nonexistent/params.yaml not found"),
    ("- include: {file: other.launch.py}", "not found"),
    ("- executable: {cmd: ls, on_exit: restart}", "on_exit 'restart' is not supported"),
    ("- executable: {cmd: ls, output: loud}", "output 'loud' is not one of"),
    ("- node: {pkg: no_such_pkg_v2p, exec: x}", "package 'no_such_pkg_v2p' not found"),
])
def test_unsupported_or_wrong_constructs_are_errors_naming_file_and_line(tmp_path, body, message):
    path = write(tmp_path / "bad.launch.yaml", f"# a comment\nlaunch:\n{body}\n")
    with pytest.raises(LaunchError, match=message) as info:
        load_launch(path)
    assert str(path.resolve()) in str(info.value) or str(path) in str(info.value)


def test_bad_and_truncated_yaml_name_the_file(tmp_path):
    good = "launch:\n- arg: {name: a, default: '1'}\n- executable:\n    cmd: \"echo $(var a)\"\n"
    truncated = write(tmp_path / "truncated.launch.yaml", good[: good.index("$(var") + 3])
    with pytest.raises(LaunchError, match=f"{truncated}: not valid YAML"):
        load_launch(truncated)
    garbage = write(tmp_path / "garbage.launch.yaml", "\x00\x01{[}")
    with pytest.raises(LaunchError, match=str(garbage)):
        load_launch(garbage)
    wrong_root = write(tmp_path / "root.launch.yaml", "nodes: []\n")
    with pytest.raises(LaunchError, match="one top-level key 'launch:'"):
        load_launch(wrong_root)
    with pytest.raises(LaunchError, match="launch file not found"):
        load_launch(tmp_path / "missing.launch.yaml")
    params = write(tmp_path / "params.yaml", "- just\n- a list\n")
    uses = write(tmp_path / "uses.launch.yaml", f"launch:\n- node: {{exec: x, param: [{{from: {params}}}]}}\n")
    with pytest.raises(LaunchError, match="must hold a mapping"):
        load_launch(uses)


def test_cli_arguments(tmp_path):
    assert parse_cli_args(["a:=1", "b:=x:=y", "c:="]) == {"a": "1", "b": "x:=y", "c": ""}
    with pytest.raises(LaunchError, match="name:=value"):
        parse_cli_args(["a=1"])
    path = write(tmp_path / "a.launch.yaml", "launch:\n- arg: {name: mode, default: lockstep, "
                 "choice: [{value: lockstep}, {value: realtime}]}\n")
    assert load_launch(path, {"mode": "realtime"}).configurations["mode"] == "realtime"
    with pytest.raises(LaunchError, match="expected one of lockstep, realtime"):
        load_launch(path, {"mode": "fast"})
    with pytest.raises(LaunchError, match="unknown launch argument"):
        load_launch(path, {"mdoe": "realtime"})


def test_safe_eval():
    assert safe_eval("2 * 3 + 1", "f") == 7
    assert safe_eval("'lockstep' == 'lockstep' and not 0 > 1", "f") is True
    assert safe_eval("1 < 2 < 3", "f") is True and safe_eval("3 < 2 < 4", "f") is False
    assert safe_eval("max(1, 4) if True else 0", "f") == 4
    for evil in ("__import__('os').system('true')", "open('/etc/passwd')", "().__class__", "[x for x in ()]"):
        with pytest.raises(LaunchError, match="not supported"):
            safe_eval(evil, "f")
    with pytest.raises(LaunchError, match="failed"):
        safe_eval("1 / 0", "f")
    assert os.environ.get("V2P_NEVER_SET") is None
