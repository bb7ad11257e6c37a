"""The ROS fixtures of tests/ros (private domain, process tracker), shared with the launch tests."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("v2p_tests_ros_fixtures", Path(__file__).parents[1] / "ros" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

ros_env = _fixtures.ros_env
processes = _fixtures.processes
