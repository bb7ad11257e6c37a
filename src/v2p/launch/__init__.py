"""`v2p launch`: run ROS 2 YAML launch files where only the rclpy wheels exist (no `ros2 launch`).

ROS-free: parsing and process supervision only; the processes are the ROS nodes.
"""

from v2p.launch.errors import LaunchError
from v2p.launch.parser import LaunchArgument, LaunchDescription, ProcessSpec, load_launch, parse_cli_args
from v2p.launch.runner import Launcher, run_launch

__all__ = [
    "LaunchArgument",
    "LaunchDescription",
    "LaunchError",
    "Launcher",
    "ProcessSpec",
    "load_launch",
    "parse_cli_args",
    "run_launch",
]
