"""The ament_python package ros2_ws/src/v2p_ros is consistent: every console_script exists and imports,
package.xml names the ROS and system dependencies the nodes import, and the launch and config files are installed
as data files (so `ros2 launch v2p_ros sim.launch.yaml` finds them after `colcon build`)."""

from __future__ import annotations

import ast
import importlib
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import setuptools
import yaml

REPO = Path(__file__).resolve().parents[2]
PKG = REPO / "ros2_ws" / "src" / "v2p_ros"
# Python modules that rosdep provides under another name
ROSDEP_KEYS = {"numpy": "python3-numpy", "yaml": "python3-yaml", "cv2": "python3-opencv"}
# installed with pip from the repository (package.xml says so in a comment), not through rosdep
PIP_ONLY = {"v2p", "v2p_sim", "torch", "torchvision", "safetensors", "gymnasium", "pybullet", "rosbags", "mcap",
            "mcap_ros2", "foxglove"}


@pytest.fixture(scope="module")
def setup_kwargs() -> dict:
    """What setup.py passes to setuptools.setup(), captured without building anything."""
    captured: dict = {}
    code = compile((PKG / "setup.py").read_text(), str(PKG / "setup.py"), "exec")
    original = setuptools.setup
    setuptools.setup = lambda **kw: captured.update(kw)
    try:
        exec(code, {"__file__": str(PKG / "setup.py"), "__name__": "__main__"})
    finally:
        setuptools.setup = original
    return captured


def package_depends() -> set[str]:
    root = ET.parse(PKG / "package.xml").getroot()
    assert root.get("format") == "3" and root.findtext("name") == "v2p_ros"
    assert root.find("export/build_type").text == "ament_python"
    return {e.text for tag in ("depend", "exec_depend") for e in root.iter(tag)}


def console_scripts(kwargs: dict) -> dict[str, str]:
    scripts = {}
    for line in kwargs["entry_points"]["console_scripts"]:
        name, target = (part.strip() for part in line.split("="))
        scripts[name] = target
    return scripts


def test_every_console_script_exists_and_imports(setup_kwargs):
    scripts = console_scripts(setup_kwargs)
    assert {"sim_node", "camera_node", "encoder_node", "policy_node", "econ_monitor_node", "recorder_node",
            "learner_node"} <= set(scripts)
    for name, target in scripts.items():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), target
        assert (Path(sys.prefix) / "bin" / name).is_file(), f"{name} is not installed: pip install -e {PKG}"


def test_package_xml_names_what_the_nodes_import():
    # the ament index the ROS wheels install into the environment (a sourced ROS install adds its own prefixes)
    prefixes = [Path(sys.prefix), *(Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p)]
    ros_packages = {m.name for prefix in prefixes
                    for m in (prefix / "share/ament_index/resource_index/packages").glob("*")}
    depends = package_depends()
    stdlib = set(sys.stdlib_module_names)
    missing = []
    for source in sorted((PKG / "v2p_ros").glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            for name in names:
                top = name.split(".")[0]
                if top in stdlib or top in PIP_ONLY or top == "v2p_ros" or top == "__future__":
                    continue
                key = ROSDEP_KEYS.get(top, top)
                if top not in ROSDEP_KEYS:
                    assert top in ros_packages, f"{source.name} imports {top}: neither ROS, rosdep-mapped nor pip"
                if key not in depends:
                    missing.append(f"{source.name}: {top} -> <exec_depend>{key}</exec_depend>")
    assert not missing, "package.xml lacks:\n" + "\n".join(sorted(set(missing)))
    assert (PKG / "resource" / "v2p_ros").is_file()


def test_launch_and_config_files_are_installed_and_everything_they_name_exists(setup_kwargs):
    installed = {f"{folder}/{Path(f).name}" for folder, files in setup_kwargs["data_files"] for f in files}
    share = "share/v2p_ros"
    launch_files = sorted((REPO / "launch").glob("*.launch.yaml"))
    assert {p.name for p in launch_files} >= {"sim.launch.yaml", "train_from_bags.launch.yaml", "robot.launch.yaml"}
    for path in launch_files:
        assert f"{share}/launch/{path.name}" in installed, path
    for path in sorted((REPO / "config" / "ros").glob("*.yaml")):
        assert f"{share}/config/ros/{path.name}" in installed, path
        data = yaml.safe_load(path.read_text())
        assert set(data) == {"/**"} and "ros__parameters" in data["/**"], path
    scripts = console_scripts(setup_kwargs)
    for path in launch_files:
        text = path.read_text()
        for exe in re.findall(r"exec:\s*(\S+)", text):
            assert exe in scripts, f"{path.name}: exec {exe} is not a console_script"
        for ref in re.findall(r"\$\(find-pkg-share v2p_ros\)/([^\s\"',}]+)", text):  # a quoted one ends at its quote
            assert f"{share}/{ref}" in installed, f"{path.name} needs {ref} installed"
