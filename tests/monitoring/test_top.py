"""`v2p top` in a pseudo-terminal against live topics: its screen shows the values published, and q or Ctrl-C
ends it with exit status 0. Plus the ROS-free dashboard state it draws from."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from rich.console import Console

from v2p.dashboard import DashboardState, render, sparkline
from v2p.task.topics import ACTION as ACTION_TOPIC

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Terminal:
    """A pty of a fixed size whose output is collected as plain text (escape sequences removed)."""

    def __init__(self, rows: int = 32, cols: int = 110) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.raw = b""

    def take_controlling(self) -> None:
        """Run in the child after setsid: make the pty its controlling terminal so Ctrl-C becomes SIGINT."""
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode(errors="replace"))

    def read_until(self, proc, needles: list[str], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(n in self.text for n in needles):
                return self.text
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.raw += os.read(self.master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
            elif proc.poll() is not None:
                break
        missing = [n for n in needles if n not in self.text]
        pytest.fail(f"screen lacks {missing}; exit status {proc.poll()}; last screen:\n{self.text[-3000:]}")

    def drain(self) -> None:
        while select.select([self.master], [], [], 0.1)[0]:
            try:
                self.raw += os.read(self.master, 65536)
            except OSError:
                return

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def terminal():
    term = Terminal()
    yield term
    term.close()


def start_top(processes, ros_env, terminal: Terminal, domain: int):
    """`v2p top` on the pty, in its own session (the pty its controlling terminal), stopped by `processes`."""
    env = dict(ros_env, ROS_DOMAIN_ID="0")  # --domain-id, not the environment, must pick the domain
    proc = subprocess.Popen([sys.executable, "-m", "v2p.cli", "top", "--domain-id", str(domain)],
                            stdin=terminal.slave, stdout=terminal.slave, stderr=terminal.slave, env=env,
                            start_new_session=True, preexec_fn=terminal.take_controlling)
    processes.started.append(proc)  # killed with its group at teardown, like every process the test starts
    return proc


TALKER_VALUES = ("--float", "/econ/mp=112.4", "--float", "/econ/error_rate=0.0412", "--float",
                 "/econ/wage_parity=1.234", "--float", "/econ/spread=-3.5", "--action", "0.125,0.875",
                 "--error-target", "0.05", "--rate", "10")


@pytest.mark.ros
def test_top_shows_live_values_and_quits_on_q(processes, ros_env, ros_domain, talker, terminal):
    talker(*TALKER_VALUES)
    proc = start_top(processes, ros_env, terminal, ros_domain)
    screen = terminal.read_until(proc, ["112.4", "4.1%", "1.234", "-3.50", "0.125", "0.875",
                                        "MET (4.1% ≤ e* 5.0%)"], timeout=45)
    assert f"ROS_DOMAIN_ID {ros_domain}" in screen
    assert re.search(r"Marginal product\s*│\s*112\.4\s*│\s*units/h\s*│\s*[▁-█]+\s*│\s*\d+\.\d", screen), screen[-2500:]
    os.write(terminal.master, b"q")
    assert proc.wait(timeout=15) == 0
    terminal.drain()
    assert "Traceback" not in terminal.text


@pytest.mark.ros
def test_top_exits_cleanly_on_ctrl_c(processes, ros_env, ros_domain, talker, terminal):
    talker("--float", "/econ/mp=98.6", "--rate", "10")
    proc = start_top(processes, ros_env, terminal, ros_domain)
    terminal.read_until(proc, ["98.6"], timeout=45)
    os.write(terminal.master, b"\x03")  # the terminal turns it into SIGINT for the foreground process
    assert proc.wait(timeout=15) == 0
    terminal.drain()
    assert "Traceback" not in terminal.text
    assert "KeyboardInterrupt" not in terminal.text


@pytest.mark.ros
def test_top_once_without_publishers_prints_an_empty_frame(ros_env, ros_domain):
    out = subprocess.run([sys.executable, "-m", "v2p.cli", "top", "--once", "--duration", "0.5", "--domain-id",
                          str(ros_domain)], env=ros_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "waiting for /econ/error_rate" in out.stdout
    assert re.search(r"Marginal product\s*│\s*—", out.stdout)


def test_top_rejects_a_domain_id_out_of_range():
    out = subprocess.run([sys.executable, "-m", "v2p.cli", "top", "--domain-id", "300"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    assert "--domain-id" in out.stderr and "300" in out.stderr


# ROS-free: the state the screen is drawn from.

def test_rate_counts_messages_per_second_over_the_window():
    state = DashboardState(error_target=0.06, rate_window_s=5.0)
    for i in range(11):  # 10 intervals over 2 s
        state.record("/econ/mp", [100.0 + i], now=10.0 + 0.2 * i)
    assert state.rate("/econ/mp", now=12.0) == pytest.approx(5.0)
    assert state.rate("/econ/mp", now=30.0) == 0.0  # all receipts left the window: the topic went quiet
    assert state.topics["/econ/mp"].count == 11
    assert state.latest("mp") == 110.0


def test_rate_of_a_quiet_topic_falls_to_zero_as_receipts_age():
    state = DashboardState(error_target=0.06, rate_window_s=5.0)
    for t in (0.0, 1.0, 2.0, 3.0):
        state.record(ACTION_TOPIC, [0.5, 0.5], now=t)
    assert state.rate(ACTION_TOPIC, now=3.0) == pytest.approx(1.0)
    assert state.rate(ACTION_TOPIC, now=7.5) == 0.0  # only the receipt at t=3 is left: no interval to measure


def test_sla_status_compares_the_latest_error_rate_with_the_target():
    state = DashboardState(error_target=0.06)
    assert state.sla_status()[0].startswith("waiting")
    state.record("/econ/error_rate", [0.06], now=1.0)
    assert state.sla_status()[0].startswith("MET")
    state.record("/econ/error_rate", [0.0601], now=2.0)
    assert state.sla_status()[0].startswith("MISSED")
    state.error_target = 0.08  # the curriculum's looser target, as /econ/summary reports it
    assert state.sla_status()[0].startswith("MET")


def test_malformed_messages_are_counted_not_shown():
    state = DashboardState(error_target=0.06)
    state.record(ACTION_TOPIC, [0.5], now=1.0)
    state.record("/econ/mp", [float("nan")], now=1.0)
    assert state.dropped == 2
    assert state.latest("speed") is None and state.latest("mp") is None
    assert state.topics[ACTION_TOPIC].count == 0
    with pytest.raises(KeyError):
        state.record("/econ/unknown", [1.0], now=1.0)


def test_sparkline_scales_between_min_and_max():
    assert sparkline([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], width=8) == "▁▂▃▄▅▆▇█"
    assert sparkline([3.0, 3.0, 3.0], width=8) == "▄▄▄"
    assert sparkline([5.0, 0.0, 10.0], width=2) == "▁█"  # only the last `width` values
    assert sparkline([], width=8) == ""


def test_render_shows_values_units_and_rates():
    state = DashboardState(error_target=0.06)
    for i in range(5):
        state.record("/econ/mp", [100.0 + i], now=float(i))
        state.record("/econ/profit", [29.66], now=float(i))
        state.record(ACTION_TOPIC, [0.25, 0.75], now=float(i))
    console = Console(width=120, record=True, color_system=None)
    console.print(render(state, now=4.0))
    text = console.export_text()
    assert re.search(r"Marginal product\s*│\s*104\.0\s*│\s*units/h\s*│\s*▁▃▅▆█\s*│\s*1\.0", text), text
    assert re.search(r"Profit\s*│\s*29\.66\s*│\s*\$/h", text)
    assert re.search(r"Action speed\s*│\s*0\.250", text) and re.search(r"Action care\s*│\s*0\.750", text)
    assert re.search(r"Error rate\s*│\s*—", text)
