"""ament_python package of the V2P nodes.

Launch and config files live at the repository root (`launch/`, `config/`); this package reaches them through
the symlinks `launch -> ../../../launch` and `config -> ../../../config`, so both `colcon build` on a ROS machine
and `pip install -e ros2_ws/src/v2p_ros --no-deps` here install them under `share/v2p_ros/`. The files are
copied at install time (`colcon build --symlink-install` links them instead): re-run the install after adding one.
"""

from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "v2p_ros"
HERE = Path(__file__).resolve().parent

# One console script per node; `ros2 run v2p_ros <name>` and `v2p launch` find them by these names.
NODES = [
    "sim_node",
    "camera_node",
    "encoder_node",
    "policy_node",
    "econ_monitor_node",
    "recorder_node",
    "learner_node",
    "foxglove_bridge_node",
    "viz_node",
]


def share_files(folder: str, pattern: str) -> list[tuple[str, list[str]]]:
    """(install dir, files) pairs for every file under `folder` matching `pattern`, keeping subfolders."""
    by_dir: dict[str, list[str]] = {}
    for path in sorted((HERE / folder).glob(pattern)):
        if path.is_file():
            rel = path.relative_to(HERE)
            by_dir.setdefault(f"share/{PACKAGE}/{rel.parent.as_posix()}", []).append(rel.as_posix())
    return sorted(by_dir.items())


setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        *share_files("launch", "*.yaml"),
        *share_files("config", "**/*.yaml"),
        *share_files("config", "*.xml"),  # fastdds.xml, the launch files' Fast DDS profile
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="V2P engineering",
    maintainer_email="engineering@v2p.invalid",
    description="V2P node graph over the ROS-free v2p core.",
    license="Apache-2.0",
    entry_points={"console_scripts": [f"{name} = {PACKAGE}.{name}:main" for name in NODES]},
)
