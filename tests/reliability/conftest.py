"""The reliability suite reuses the ROS test fixtures (private domain, process tracker) and node_harness."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROS_TESTS = Path(__file__).resolve().parent.parent / "ros"
sys.path.insert(0, str(ROS_TESTS))  # node_harness

_spec = importlib.util.spec_from_file_location("v2p_ros_test_fixtures", ROS_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
ros_env = _fixtures.ros_env
processes = _fixtures.processes
