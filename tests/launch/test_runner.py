"""Running launch files: real processes, prefixed output, respawn, required processes, clean shutdown."""

from __future__ import annotations

import io
import re
import signal
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from v2p.launch import run_launch

HERE = Path(__file__).resolve().parent
PY = sys.executable


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def started_pids(output: str) -> dict[str, int]:
    return {label: int(pid) for label, pid in re.findall(r"\[INFO\] \[([\w.-]+)\]: process started with pid \[(\d+)\]",
                                                           output)}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_respawn_with_delay_until_retries_run_out(tmp_path):
    launch = write(tmp_path / "respawn.launch.yaml", f"""
launch:
- executable:
    cmd: "{PY} {HERE / 'flaky.py'}"
    name: flaky
    output: screen
    respawn: "true"
    respawn_delay: 0.1
    respawn_max_retries: 2
""")
    out = io.StringIO()
    assert run_launch(launch, {}, out=out) == 1  # the last run still failed
    text = out.getvalue()
    assert text.count("[flaky-1] run") == 3
    assert text.count("respawning in 0.1 s") == 2
    assert "process has died" in text and "exit code 3" in text


def test_required_process_exit_shuts_down_and_escalates_to_sigkill(tmp_path):
    launch = write(tmp_path / "required.launch.yaml", f"""
launch:
- executable:
    cmd: "{PY} {HERE / 'ignores_signals.py'}"
    name: deaf
    output: screen
    sigterm_timeout: 0.3
    sigkill_timeout: 0.3
- executable:
    cmd: "{PY} -c 'import time; time.sleep(1.0)'"
    name: required
    on_exit: shutdown
""")
    out = io.StringIO()
    assert run_launch(launch, {}, out=out) == 1
    text = out.getvalue()
    assert "shutting down: process required-2 exited and has on_exit: shutdown" in text
    assert "still running after SIGINT; sending SIGTERM" in text
    assert "still running after SIGTERM; sending SIGKILL" in text
    assert "deaf-1: ignored SIGINT and SIGTERM, killed" in text
    assert not any(alive(pid) for pid in started_pids(text).values())


def test_stop_event_shuts_down_cleanly(tmp_path):
    launch = write(tmp_path / "sleep.launch.yaml", f"""
launch:
- arg: {{name: seconds, default: "60"}}
- executable: {{cmd: "{PY} -c 'import time; time.sleep($(var seconds))'", name: sleeper}}
""")
    out, stop, result = io.StringIO(), threading.Event(), {}
    runner = threading.Thread(target=lambda: result.update(rc=run_launch(launch, {"seconds": "30"}, stop, out=out)))
    runner.start()
    deadline = time.monotonic() + 20
    while "process started" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    runner.join(timeout=20)
    assert not runner.is_alive() and result["rc"] == 0
    assert "shutting down: stop requested" in out.getvalue()
    assert not any(alive(pid) for pid in started_pids(out.getvalue()).values())


def launcher_argv(launch: Path, *args: str) -> list[str]:
    return [PY, "-m", "v2p.cli", "launch", str(launch), *args]


def test_ctrl_c_and_sigkill_of_the_launcher_leave_no_process(tmp_path, processes):
    launch = write(tmp_path / "sleep.launch.yaml", f"""
launch:
- executable: {{cmd: "{PY} -c 'import time; time.sleep(60)'", name: sleeper}}
""")
    launcher = processes.start(launcher_argv(launch), "launcher_sigint")
    processes.wait_for_output(launcher, "process started with pid")
    (pid,) = started_pids(launcher.output()).values()
    launcher.send_signal(signal.SIGINT)  # the launcher alone, as a terminal's Ctrl-C reaches it
    assert launcher.wait(timeout=20) == 0, launcher.output()
    assert "shutting down: signal received" in launcher.output()
    assert not alive(pid)

    launcher = processes.start(launcher_argv(launch), "launcher_sigkill")
    processes.wait_for_output(launcher, "process started with pid")
    (pid,) = started_pids(launcher.output()).values()
    launcher.kill()
    launcher.wait()
    assert wait_gone(pid), "the child outlived its SIGKILLed launcher"


@pytest.fixture
def test_package(tmp_path, monkeypatch) -> Path:
    """An installed ROS package `v2p_test_nodes` with executables talker and listener (an ament prefix)."""
    prefix = tmp_path / "install"
    marker = prefix / "share/ament_index/resource_index/packages/v2p_test_nodes"
    marker.parent.mkdir(parents=True)
    marker.write_text("")
    (prefix / "share/v2p_test_nodes").mkdir()
    for name in ("talker", "listener"):
        exe = prefix / "lib/v2p_test_nodes" / name
        exe.parent.mkdir(parents=True, exist_ok=True)
        exe.write_text(f"#!{PY}\nimport runpy\nrunpy.run_path({str(HERE / (name + '.py'))!r}, run_name='__main__')\n")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("AMENT_PREFIX_PATH", str(prefix))
    return prefix


@pytest.mark.ros
def test_two_rclpy_nodes_pass_a_float64_then_shut_down(tmp_path, ros_env, test_package, processes):
    launch = write(tmp_path / "talk.launch.yaml", """
launch:
- arg: {name: value, default: "1.0"}
- group:
    - push_ros_namespace: {namespace: demo}
    - node:
        pkg: v2p_test_nodes
        exec: talker
        name: my_talker
        output: screen
        param: [{name: value, value: "$(var value)"}]
        remap: [{from: chatter, to: numbers}]
    - node: {pkg: v2p_test_nodes, exec: listener, output: screen, on_exit: shutdown}
""")
    launcher = processes.start(launcher_argv(launch, "value:=29.757"), "launcher")
    assert launcher.wait(timeout=60) == 0, launcher.output()
    out = launcher.output()
    assert "[my_talker-1] talking 29.757 on /demo/numbers as /demo/my_talker" in out
    assert "[listener-2] heard 29.757 on /demo/numbers" in out
    assert "[my_talker-1] talker stopped cleanly" in out
    assert "shutting down: process listener-2 exited and has on_exit: shutdown" in out
    assert (Path(ros_env["ROS_LOG_DIR"])).is_dir()
    pids = started_pids(out)
    assert set(pids) == {"my_talker-1", "listener-2"} and not any(alive(p) for p in pids.values())
