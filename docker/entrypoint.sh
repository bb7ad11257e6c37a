#!/bin/bash
# Source ROS 2 Kilted and the V2P workspace, then run the command (default: the simulated workcell).
set -e
source /opt/ros/kilted/setup.bash
source /opt/v2p/ros2_ws/install/setup.bash
exec "$@"
