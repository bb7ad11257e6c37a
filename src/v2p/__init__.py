"""V2P: video-to-policy robotics, priced like labor. The ROS-free core."""

__version__ = "0.1.0"
