"""V2P ROS 2 nodes: one thin rclpy node per module over the ROS-free `v2p` core."""
