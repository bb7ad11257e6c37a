"""viz_node: /viz/markers (visualization_msgs/MarkerArray) for rviz2 and Foxglove.

The workcell's static parts as CUBE markers placed as the simulator places them (`v2p.viz.workcell_boxes`), their
names, and TEXT_VIEW_FACING lines with the live economics from /econ/* and the SLA verdict against the e* that
/econ/summary reports (the config's e* until the first episode ends). Everything is in frame "workcell" (the
sim's world frame), so rviz2 and Foxglove need no TF: set the fixed frame to "workcell".

The array is republished every 1/`rate_hz` seconds of wall time (a display refresh is a wall-clock matter; sim
time may stand still) and latched, so a viewer that starts late gets the scene at once.
"""

from __future__ import annotations

import math
import sys

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.clock import Clock, ClockType
from std_msgs.msg import Float64
from visualization_msgs.msg import Marker, MarkerArray

from v2p.config import load_economics_config
from v2p.dashboard import ECON_METRICS
from v2p.economics.monitor import summary_error_target
from v2p.viz import FRAME_ID, Box, Label, economics_labels, station_labels, workcell_boxes
from v2p.task import topics
from v2p_ros.common import V2PNode, declare, latched_qos, reliable_qos, spin_node


def box_marker(box: Box, marker_id: int) -> Marker:
    m = Marker(ns="workcell", id=marker_id, type=Marker.CUBE, action=Marker.ADD)
    m.header.frame_id = FRAME_ID
    m.pose.position.x, m.pose.position.y, m.pose.position.z = box.center
    m.pose.orientation.w = 1.0
    m.scale.x, m.scale.y, m.scale.z = box.size
    m.color.r, m.color.g, m.color.b, m.color.a = box.rgba
    m.text = box.name  # not drawn for a cube; Foxglove and `ros2 topic echo` show which part it is
    return m


def text_marker(label: Label, ns: str, marker_id: int) -> Marker:
    m = Marker(ns=ns, id=marker_id, type=Marker.TEXT_VIEW_FACING, action=Marker.ADD, text=label.text)
    m.header.frame_id = FRAME_ID
    m.pose.position.x, m.pose.position.y, m.pose.position.z = label.position
    m.pose.orientation.w = 1.0
    m.scale.z = label.height  # text markers use only scale.z: the height of a capital letter
    m.color.r, m.color.g, m.color.b, m.color.a = label.rgba
    return m


class VizNode(V2PNode):
    def __init__(self) -> None:
        super().__init__("viz")
        site = declare(self, "site", "default", "site name or YAML path (the rack's length follows its dishes)")
        rate = declare(self, "rate_hz", 2.0, "marker array republished per second of wall time", (0.1, 60.0))
        config = declare(self, "economics_config", "", "economics YAML for e* (empty: config/economics.yaml)")
        self.error_target = load_economics_config(config or None).sla.error_target
        self.boxes = workcell_boxes(site)  # ConfigError names a bad site file and key
        self.values: dict[str, float] = {}
        for metric in ECON_METRICS:
            self.create_subscription(Float64, metric.topic, lambda msg, k=metric.key: self.on_value(k, msg.data),
                                     reliable_qos(10))
        self.create_subscription(DiagnosticArray, topics.ECON_SUMMARY, self.on_summary, reliable_qos(10))
        self.pub = self.create_publisher(MarkerArray, topics.VIZ_MARKERS, latched_qos())
        self.create_timer(1.0 / rate, self.publish, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.publish()

    def on_value(self, key: str, value: float) -> None:
        if math.isfinite(value):
            self.values[key] = value

    def on_summary(self, msg: DiagnosticArray) -> None:
        target = summary_error_target(msg.status)
        if target is not None:
            self.error_target = target

    def markers(self) -> MarkerArray:
        out = MarkerArray()
        out.markers = [box_marker(box, i) for i, box in enumerate(self.boxes)]
        out.markers += [text_marker(label, "stations", i) for i, label in enumerate(station_labels(self.boxes))]
        out.markers += [text_marker(label, "economics", i)
                        for i, label in enumerate(economics_labels(self.values, self.error_target))]
        return out

    def publish(self) -> None:
        self.pub.publish(self.markers())


def main(args: list[str] | None = None) -> int:
    return spin_node(VizNode, "viz", args)


if __name__ == "__main__":
    sys.exit(main())
