"""Run a parsed launch: start every process (argv lists, never a shell), prefix its output, respawn, shut down.

Each process runs in its own process group, so signals reach everything it started; it also gets SIGTERM from
the kernel if the launcher itself dies (PR_SET_PDEATHSIG), so a killed launcher leaves no orphans running.
Shutdown, on Ctrl-C / SIGTERM, a stop event, or the exit of an `on_exit: shutdown` process: SIGINT to every
process, SIGTERM after its sigterm_timeout, SIGKILL after its sigkill_timeout; another Ctrl-C escalates at once.
"""

from __future__ import annotations

import ctypes
import datetime
import functools
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

from v2p.launch.description import LaunchDescription, ProcessSpec
from v2p.launch.parser import load_launch

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)
_PRCTL = _LIBC.prctl  # resolved here: the child, between fork and exec, must not import or look anything up
_POLL_S = 0.05


def _die_with_parent(parent_pid: int) -> None:
    """Runs in the child before exec: get SIGTERM when the launcher dies (kept across the exec)."""
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:  # the launcher died before prctl took effect
        os._exit(1)


@dataclass
class _Managed:
    spec: ProcessSpec
    popen: subprocess.Popen | None = None
    readers: list[threading.Thread] = field(default_factory=list)
    respawns: int = 0
    respawn_at: float | None = None
    stop_stage: int = 0  # 0 running, 1 SIGINT sent, 2 SIGTERM sent, 3 SIGKILL sent
    stop_deadline: float = 0.0


def default_log_dir(env: dict[str, str] | None = None) -> Path:
    """ROS_LOG_DIR, else ROS_HOME/log, else ~/.ros/log: where `ros2 launch` writes its logs."""
    env = os.environ if env is None else env
    if env.get("ROS_LOG_DIR"):
        return Path(env["ROS_LOG_DIR"]).expanduser()
    if env.get("ROS_HOME"):
        return Path(env["ROS_HOME"]).expanduser() / "log"
    return Path.home() / ".ros" / "log"


class Launcher:
    def __init__(self, description: LaunchDescription, *, out: TextIO | None = None,
                 log_dir: Path | None = None) -> None:
        self.description = description
        self.out = out or sys.stdout
        self._lock = threading.Lock()
        self._managed = [_Managed(spec) for spec in description.processes]
        self._failures: list[str] = []
        self._shutting_down = False
        self._signals = 0
        self._log_file: IO[str] | None = None
        base = log_dir or default_log_dir()
        stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H-%M-%S-%f")
        self.log_dir = base / f"{stamp}-{socket.gethostname()}-{os.getpid()}"

    # -- output --------------------------------------------------------------------------------------------------

    def _write(self, line: str, *, screen: bool = True) -> None:
        with self._lock:
            if screen:
                self.out.write(line + "\n")
                self.out.flush()
            if self._log_file is not None:
                self._log_file.write(line + "\n")
                self._log_file.flush()

    def info(self, who: str, text: str) -> None:
        self._write(f"[INFO] [{who}]: {text}")

    def error(self, who: str, text: str) -> None:
        self._write(f"[ERROR] [{who}]: {text}")

    def _pump(self, stream: IO[bytes], label: str, screen: bool) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                self._write(f"[{label}] {raw.decode('utf-8', 'replace').rstrip()}", screen=screen)

    # -- processes -----------------------------------------------------------------------------------------------

    def _start(self, m: _Managed) -> None:
        spec = m.spec
        m.respawn_at = None
        m.stop_stage = 0
        try:
            popen = subprocess.Popen(
                spec.argv,
                env=spec.env,
                cwd=spec.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=functools.partial(_die_with_parent, os.getpid()),  # noqa: PLW1509 - async-safe body
            )
        except OSError as exc:
            self.error(spec.label, f"cannot start {spec.argv[0]}: {exc.strerror or exc} ({spec.source})")
            self._failures.append(f"{spec.label}: cannot start")
            if spec.shutdown_on_exit:
                self._begin_shutdown(f"required process {spec.label} could not start")
            return
        m.popen = popen
        assert popen.stdout is not None and popen.stderr is not None
        m.readers = [
            threading.Thread(target=self._pump, args=(popen.stdout, spec.label, spec.output != "log"), daemon=True),
            threading.Thread(target=self._pump, args=(popen.stderr, spec.label, True), daemon=True),
        ]
        self.info(spec.label, f"process started with pid [{popen.pid}]")
        for reader in m.readers:
            reader.start()

    def _signal(self, m: _Managed, sig: signal.Signals) -> None:
        if m.popen is None:
            return
        try:
            os.killpg(m.popen.pid, sig)
        except ProcessLookupError:
            pass

    def _on_exit(self, m: _Managed, now: float) -> None:
        assert m.popen is not None
        spec, popen = m.spec, m.popen
        rc = popen.returncode
        for reader in m.readers:
            reader.join(timeout=1.0)
        # Whatever the process left in its group (its own children) goes with it.
        self._signal(m, signal.SIGTERM)
        m.popen = None
        if rc == 0:
            self.info(spec.label, f"process has finished cleanly [pid {popen.pid}]")
        else:
            how = f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit code {rc}"
            self.error(spec.label, f"process has died [pid {popen.pid}, {how}, cmd '{shlex.join(spec.argv)}']")
        if self._shutting_down:
            if m.stop_stage >= 3:
                self._failures.append(f"{spec.label}: ignored SIGINT and SIGTERM, killed")
            return
        if spec.shutdown_on_exit:
            if rc != 0:
                self._failures.append(f"{spec.label}: exit {rc}")
            self._begin_shutdown(f"process {spec.label} exited and has on_exit: shutdown")
            return
        if spec.respawn and (spec.respawn_max_retries < 0 or m.respawns < spec.respawn_max_retries):
            m.respawns += 1
            m.respawn_at = now + spec.respawn_delay
            self.info(spec.label, f"respawning in {spec.respawn_delay:g} s (respawn {m.respawns})")
            return
        if rc != 0:
            self._failures.append(f"{spec.label}: exit {rc}")

    def _begin_shutdown(self, reason: str) -> None:
        if self._shutting_down:
            return
        self._shutting_down = True
        self.info("launch", f"shutting down: {reason}")
        now = time.monotonic()
        for m in self._managed:
            m.respawn_at = None
            if m.popen is not None:
                m.stop_stage = 1
                m.stop_deadline = now + m.spec.sigterm_timeout
                self._signal(m, signal.SIGINT)

    def _escalate(self, m: _Managed, now: float) -> None:
        if m.popen is None or m.stop_stage >= 3:
            return
        if m.stop_stage == 1:
            self.error(m.spec.label, "still running after SIGINT; sending SIGTERM")
            m.stop_stage, m.stop_deadline = 2, now + m.spec.sigkill_timeout
            self._signal(m, signal.SIGTERM)
        else:
            self.error(m.spec.label, "still running after SIGTERM; sending SIGKILL")
            m.stop_stage, m.stop_deadline = 3, float("inf")
            self._signal(m, signal.SIGKILL)

    # -- main loop -----------------------------------------------------------------------------------------------

    def run(self, stop_event: threading.Event | None = None) -> int:
        """Run until every process has ended; 0 when none failed, 1 otherwise."""
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            self._log_file = (self.log_dir / "launch.log").open("a", encoding="utf-8")
        except OSError as exc:
            self.error("launch", f"cannot write the launch log in {self.log_dir}: {exc.strerror}")
        restore = self._install_signal_handlers()
        try:
            self.info("launch", f"{self.description.path}: {len(self._managed)} process(es); log in {self.log_dir}")
            for message in self.description.messages:
                self.info("launch.user", message)
            for m in self._managed:
                self._start(m)
            seen_signals = 0
            while True:
                now = time.monotonic()
                if self._signals > seen_signals:
                    if self._shutting_down:  # a second Ctrl-C: escalate everything at once
                        for m in self._managed:
                            self._escalate(m, now)
                    seen_signals = self._signals
                    self._begin_shutdown("signal received")
                if stop_event is not None and stop_event.is_set():
                    self._begin_shutdown("stop requested")
                for m in self._managed:
                    if m.popen is not None and m.popen.poll() is not None:
                        self._on_exit(m, now)
                    if m.respawn_at is not None and now >= m.respawn_at and not self._shutting_down:
                        self._start(m)
                    if self._shutting_down and m.popen is not None and now >= m.stop_deadline:
                        self._escalate(m, now)
                if all(m.popen is None and m.respawn_at is None for m in self._managed):
                    break
                time.sleep(_POLL_S)
        finally:
            for m in self._managed:  # only reached with live processes if this loop itself failed
                if m.popen is not None and m.popen.poll() is None:
                    self._signal(m, signal.SIGKILL)
                    m.popen.wait()
            restore()
        if self._failures:
            self.error("launch", "failed: " + "; ".join(self._failures))
        else:
            self.info("launch", "all processes have ended")
        if self._log_file is not None:
            self._log_file.close()
        return 1 if self._failures else 0

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum: int, frame: object) -> None:
            self._signals += 1

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore


def run_launch(
    path: Path | str,
    args: dict[str, str] | None = None,
    stop_event: threading.Event | None = None,
    *,
    out: TextIO | None = None,
) -> int:
    """Parse and run a YAML launch file; returns the launch's exit code (0: no process failed)."""
    description = load_launch(path, args)
    return Launcher(description, out=out).run(stop_event)
