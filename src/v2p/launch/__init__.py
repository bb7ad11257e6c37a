"""`v2p launch`: run ROS 2 YAML launch files where only the rclpy wheels exist (no `ros2 launch`).

ROS-free: parsing and process supervision only; the processes are the ROS nodes. A file is read by yaml_file,
checked against the attribute schemas of attributes (the types ROS 2's launch demands), evaluated by evaluation
with the actions registered in actions and processes, substitutions from substitutions (`$(eval)`:
expressions), node parameters from parameters, into a description; runner runs it. parser holds the entry
points, scope the evaluation state, packages the package lookup, registry the name tables.
"""

from v2p.launch.description import LaunchArgument, LaunchDescription, ProcessSpec
from v2p.launch.errors import LaunchError
from v2p.launch.parser import load_launch, parse_cli_args
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
