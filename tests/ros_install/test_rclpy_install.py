"""The ROS 2 install is real: two rclpy nodes on a private domain pass a std_msgs/Float64 over Fast DDS."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.ros

SCRIPT = textwrap.dedent("""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import Float64

    rclpy.init()
    talker, listener = rclpy.create_node("talker"), rclpy.create_node("listener")
    received = []
    listener.create_subscription(Float64, "/v2p_test/value", lambda m: received.append(m.data), 10)
    pub = talker.create_publisher(Float64, "/v2p_test/value", 10)
    executor = SingleThreadedExecutor()
    executor.add_node(talker)
    executor.add_node(listener)
    for _ in range(200):
        pub.publish(Float64(data=29.757))
        executor.spin_once(timeout_sec=0.05)
        if received:
            break
    print("received", received[0] if received else None, rclpy.get_rmw_implementation_identifier())
    executor.shutdown()
    talker.destroy_node()
    listener.destroy_node()
    rclpy.shutdown()
""")


def test_two_nodes_pass_a_float64(tmp_path):
    env = dict(os.environ, ROS_DOMAIN_ID=str(40 + os.getpid() % 50), ROS_LOG_DIR=str(tmp_path / "ros_log"),
               RMW_IMPLEMENTATION="rmw_fastrtps_cpp", ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "received 29.757 rmw_fastrtps_cpp" in proc.stdout
    assert (tmp_path / "ros_log").is_dir()  # logs went to the temp dir, not ~/.ros/log
