"""Monitoring tests reuse the ROS fixtures of tests/ros/conftest.py: `ros_env` (a private ROS_DOMAIN_ID, ROS logs
in the test's temp dir, set in os.environ) and `processes` (every process started in its own group, all killed
at teardown). `talker` starts tests/monitoring/talker.py, the stand-in for a running graph's publishers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
TALKER = TESTS_DIR / "talker.py"


def _ros_fixtures():
    spec = importlib.util.spec_from_file_location("v2p_tests_ros_fixtures", TESTS_DIR.parent / "ros" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ros = _ros_fixtures()
ros_env = _ros.ros_env
processes = _ros.processes


@pytest.fixture
def ros_domain(ros_env: dict[str, str]) -> int:
    return int(ros_env["ROS_DOMAIN_ID"])


@pytest.fixture
def talker(processes, ros_env):
    """start(*args): the test publisher with its command line, once its publishers exist."""
    def start(*args: str):
        proc = processes.start([sys.executable, str(TALKER), *args], "talker", env=ros_env)
        processes.wait_for_output(proc, "publishing", timeout=60)
        return proc

    return start
