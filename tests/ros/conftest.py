"""Fixtures for tests that start real rclpy processes.

- `ros_env`: this test's own ROS_DOMAIN_ID (so parallel runs never cross-talk), logs in tmp_path, Fast DDS on the
  project's profile config/fastdds.xml (what the launch files and the image select), discovery limited to this
  machine; set in os.environ and returned.
- `processes`: starts processes in their own process groups, their output in tmp_path/<name>.log; at teardown
  every group still alive is killed and the Fast DDS shared-memory files the test left in /dev/shm are removed.
- `driver`: a `node_harness.Driver` (a node in the test process that publishes inputs and records outputs) on
  this test's `ros_env`, shut down at teardown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Valid domain ids whose ports do not collide with the ephemeral range; 0 (everyone's default) is left out.
DOMAIN_IDS = [*range(1, 102), *range(215, 233)]
SHM = Path("/dev/shm")
FASTDDS_PROFILE = Path(__file__).resolve().parents[2] / "config" / "fastdds.xml"


def domain_id_for(key: str) -> int:
    return DOMAIN_IDS[zlib.crc32(f"{os.getpid()}:{key}".encode()) % len(DOMAIN_IDS)]


@pytest.fixture
def ros_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> dict[str, str]:
    values = {
        "ROS_DOMAIN_ID": str(domain_id_for(request.node.nodeid)),
        "ROS_LOG_DIR": str(tmp_path / "ros_log"),
        "RMW_IMPLEMENTATION": "rmw_fastrtps_cpp",
        "FASTDDS_DEFAULT_PROFILES_FILE": str(FASTDDS_PROFILE),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST",
        "PYTHONUNBUFFERED": "1",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ROS_STATIC_PEERS", raising=False)
    monkeypatch.delenv("FASTDDS_BUILTIN_TRANSPORTS", raising=False)  # the profile alone picks the transports
    return dict(os.environ)


class Process(subprocess.Popen):
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class ProcessTracker:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[Process] = []

    def start(self, argv: list[str], name: str, env: dict[str, str] | None = None) -> Process:
        log_path = self.tmp_path / f"{name}.log"
        with log_path.open("ab") as log:
            proc = Process(argv, env=env or dict(os.environ), stdin=subprocess.DEVNULL, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
        proc.log_path = log_path
        self.started.append(proc)
        return proc

    def wait_for_output(self, proc: Process, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in proc.output():
                return
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not in the output of {proc.args[0]} (exit {proc.poll()}):\n{proc.output()}")

    @staticmethod
    def stop(proc: subprocess.Popen, sig: signal.Signals = signal.SIGINT, timeout: float = 20.0) -> int:
        """Send `sig` to the process group and wait; SIGKILL if it does not end in time."""
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError(f"{proc.args} did not end within {timeout} s of {sig.name}") from None

    def kill_all(self) -> None:
        for proc in self.started:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole group: stragglers of an exited leader too
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()


def _shm_in_use() -> set[str]:
    """Names under /dev/shm that a live process has mapped or open."""
    used: set[str] = set()
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            for line in (proc_dir / "maps").read_text().splitlines():
                if "/dev/shm/" in line:
                    used.add(line.split("/dev/shm/", 1)[1].removesuffix(" (deleted)"))
            for fd in (proc_dir / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("/dev/shm/"):
                    used.add(target.removeprefix("/dev/shm/"))
        except OSError:
            continue
    return used


def _fastdds_shm() -> set[str]:
    try:
        return {p.name for p in SHM.iterdir() if p.name.startswith(("fastdds", "sem.fastdds"))}
    except OSError:
        return set()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[ProcessTracker]:
    before = _fastdds_shm()
    tracker = ProcessTracker(tmp_path)
    try:
        yield tracker
    finally:
        tracker.kill_all()
        leftovers = _fastdds_shm() - before
        if leftovers:
            in_use = _shm_in_use()
            for name in leftovers - in_use:  # files another live test still uses are left alone
                (SHM / name).unlink(missing_ok=True)


@pytest.fixture
def driver(ros_env: dict[str, str]) -> Iterator[Any]:
    from node_harness import Driver  # rclpy is imported only by the tests that drive nodes

    d = Driver()
    try:
        yield d
    finally:
        d.close()
