"""rosbag2 bags (MCAP storage, metadata.yaml v9) written and read through `rosbags`, without a ROS graph.

`v2p.bags.play` is the one module that needs rclpy, and imports it inside its function.
"""

from v2p.bags.errors import BagError
from v2p.bags.reader import BagInfo, BagMessage, TopicInfo, bag_info, find_bags, read_bag
from v2p.bags.repair import repair_bag
from v2p.bags.writer import BagWriter, make_qos

__all__ = [
    "BagError",
    "BagInfo",
    "BagMessage",
    "BagWriter",
    "TopicInfo",
    "bag_info",
    "find_bags",
    "make_qos",
    "read_bag",
    "repair_bag",
]
