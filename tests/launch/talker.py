"""Test node: publishes its `value` parameter as std_msgs/Float64 on `chatter` at 20 Hz until stopped."""

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from std_msgs.msg import Float64


def main() -> None:
    rclpy.init()
    node = Node("talker")
    value = node.declare_parameter("value", 0.0).value
    pub = node.create_publisher(Float64, "chatter", 10)
    node.create_timer(0.05, lambda: pub.publish(Float64(data=value)))
    print(f"talking {value} on {pub.topic_name} as {node.get_fully_qualified_name()}", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        print("talker stopped cleanly", flush=True)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
