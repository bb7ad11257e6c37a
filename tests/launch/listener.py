"""Test node: prints the first 3 std_msgs/Float64 it hears on `numbers`, then exits 0."""

import rclpy
from rclpy.node import Node
from std_msgs.msg import Float64


def main() -> None:
    rclpy.init()
    node = Node("listener")
    heard: list[float] = []
    sub = node.create_subscription(Float64, "numbers", lambda m: heard.append(m.data), 10)
    while rclpy.ok() and len(heard) < 3:
        rclpy.spin_once(node, timeout_sec=0.1)
    print(f"heard {heard[0]} on {sub.topic_name}", flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == "__main__":
    main()
