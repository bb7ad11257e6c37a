"""Test publisher: the /econ/* values and /policy/action a running graph would publish, until SIGINT.

    talker.py --float /econ/mp=109.5 --float /econ/error_rate=0.027 --action 0.4,0.8 --rate 10
Prints "publishing" once its publishers exist, so a test knows it is up.
"""

from __future__ import annotations

import argparse

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.executors import ExternalShutdownException
from std_msgs.msg import Float32MultiArray, Float64


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--float", action="append", default=[], metavar="TOPIC=VALUE")
    parser.add_argument("--action", default=None, metavar="SPEED,CARE")
    parser.add_argument("--error-target", type=float, default=None, help="publish it on /econ/summary")
    parser.add_argument("--rate", type=float, default=10.0)
    args = parser.parse_args()

    rclpy.init()
    node = rclpy.create_node("monitoring_test_talker")
    floats = []
    for item in args.float:
        topic, value = item.split("=")
        floats.append((node.create_publisher(Float64, topic, 10), float(value)))
    action = None
    if args.action:
        action = (node.create_publisher(Float32MultiArray, "/policy/action", 10),
                  [float(v) for v in args.action.split(",")])
    summary = node.create_publisher(DiagnosticArray, "/econ/summary", 10) if args.error_target else None

    def tick() -> None:
        for pub, value in floats:
            pub.publish(Float64(data=value))
        if action:
            action[0].publish(Float32MultiArray(data=action[1]))
        if summary:
            status = DiagnosticStatus(name="economics", values=[KeyValue(key="error_target",
                                                                         value=str(args.error_target))])
            summary.publish(DiagnosticArray(status=[status]))

    node.create_timer(1.0 / args.rate, tick)
    print("publishing", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
