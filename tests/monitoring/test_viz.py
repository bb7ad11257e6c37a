"""Workcell markers, the rviz2 config and the Foxglove layout: the boxes sit where PyBullet puts the parts, the
configs name the topics the nodes publish with QoS they can receive, and viz_node carries live economics."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pybullet as p
import pytest
import yaml

from v2p.task.topics import VIZ_MARKERS as MARKERS_TOPIC
from v2p.viz import FRAME_ID, economics_labels, foxglove_layout, station_labels, workcell_boxes

ROOT = Path(__file__).resolve().parents[2]


def scene_boxes(site: str) -> list[tuple[tuple, tuple, tuple]]:
    """(centre, size, rgba) of every single-box static body PyBullet builds for the site's workcell."""
    from v2p_sim.scene import build_scene
    from v2p_sim.site import load_site

    client = p.connect(p.DIRECT)
    try:
        build_scene(client, load_site(site))
        boxes = []
        for i in range(p.getNumBodies(physicsClientId=client)):
            body = p.getBodyUniqueId(i, physicsClientId=client)
            shapes = p.getVisualShapeData(body, physicsClientId=client)
            if len(shapes) == 1 and shapes[0][2] == p.GEOM_BOX:
                base, _ = p.getBasePositionAndOrientation(body, physicsClientId=client)
                centre = tuple(b + o for b, o in zip(base, shapes[0][5]))
                boxes.append((centre, tuple(shapes[0][3]), tuple(shapes[0][7])))
        return boxes
    finally:
        p.disconnect(client)


@pytest.mark.parametrize("site", ["default", "customer_bistro"])
def test_boxes_are_where_the_simulator_builds_the_parts(site):
    built = scene_boxes(site)
    boxes = workcell_boxes(site)
    assert [b.name for b in boxes] == ["counter", "sink", "scrub station", "stack", "rack"]
    for box in boxes:
        matches = [b for b in built if all(abs(x - y) < 1e-6 for x, y in zip(b[0] + b[1], box.center + box.size))]
        assert matches, f"no PyBullet body at {box.name}'s centre {box.center} with size {box.size}: {built}"
        assert all(abs(x - y) < 1e-3 for x, y in zip(matches[0][2], box.rgba)), box.name  # same colour too


def test_rack_length_follows_the_sites_dishes(tmp_path):
    site = yaml.safe_load((ROOT / "config" / "sites" / "default.yaml").read_text())
    site["plate"]["radius_m"] = 0.06  # smaller plates: a narrower row of plate cells
    small = tmp_path / "small_plates.yaml"
    small.write_text(yaml.safe_dump(site))
    rack = {name: next(b for b in workcell_boxes(name) if b.name == "rack") for name in ("default", str(small))}
    assert rack[str(small)].size[0] < rack["default"].size[0]
    built = scene_boxes(str(small))
    box = rack[str(small)]
    assert any(all(abs(x - y) < 1e-6 for x, y in zip(b[0] + b[1], box.center + box.size)) for b in built)


def test_station_labels_float_above_their_parts():
    boxes = workcell_boxes()
    labels = station_labels(boxes)
    assert [lab.text for lab in labels] == [b.name for b in boxes]
    for box, label in zip(boxes, labels):
        assert label.position[2] > box.center[2] + box.size[2] / 2


def test_economics_labels_show_each_figure_and_the_sla_verdict():
    values = {"mp": 109.0, "error_rate": 0.027, "wage_parity": 1.653, "spread": 11.76}
    labels = {lab.key: lab for lab in economics_labels(values, error_target=0.06)}
    assert labels["economics/mp"].text == "Marginal product: 109.0 units/h"
    assert labels["economics/error_rate"].text == "Error rate: 2.7%"
    assert labels["economics/spread"].text == "Spread ŵ_r − w_h: +11.76 $/h"
    assert labels["economics/profit"].text == "Profit: — $/h"  # not received yet
    assert labels["economics/sla"].text == "SLA e* 6.0%: MET"
    assert labels["economics/sla"].rgba[1] > labels["economics/sla"].rgba[0]  # green
    missed = {lab.key: lab for lab in economics_labels({"error_rate": 0.08}, error_target=0.06)}
    assert missed["economics/sla"].text == "SLA e* 6.0%: MISSED"
    assert missed["economics/sla"].rgba[0] > missed["economics/sla"].rgba[1]  # red
    heights = [lab.position[2] for lab in economics_labels(values, 0.06)]
    assert heights == sorted(heights, reverse=True) and len(set(heights)) == len(heights)  # no overlap


def test_foxglove_layout_file_is_the_generated_layout():
    text = (ROOT / "config" / "foxglove_layout.json").read_text()
    assert text == foxglove_layout(), "config/foxglove_layout.json is stale: regenerate it from v2p.viz"


def _panels(node):
    if node.get("type") == "panel":
        yield node
    for item in node.get("items", []):
        yield from _panels(item["content"])


def test_foxglove_layout_shows_camera_every_econ_topic_and_raw_actions():
    layout = json.loads((ROOT / "config" / "foxglove_layout.json").read_text())
    panels = list(_panels(layout["content"]))
    kinds = {panel["panelType"] for panel in panels}
    assert {"Image", "Plot", "RawMessages", "ThreeDee"} <= kinds
    image = next(p_ for p_ in panels if p_["panelType"] == "Image")
    assert image["config"]["imageMode"]["imageTopic"] == "/camera/image_raw"
    plotted = {series["value"] for p_ in panels if p_["panelType"] == "Plot" for series in p_["config"]["paths"]}
    for name in ("mp", "error_rate", "lambda", "spread", "wage_parity", "profit", "s_cust"):
        assert f"/econ/{name}.data" in plotted
    raw = next(p_ for p_ in panels if p_["panelType"] == "RawMessages")
    assert raw["config"]["topicPath"] == "/policy/action"
    three_d = next(p_ for p_ in panels if p_["panelType"] == "ThreeDee")
    assert MARKERS_TOPIC in three_d["config"]["topics"] and three_d["config"]["followTf"] == FRAME_ID


RVIZ_RELIABILITY = {"Reliable": "RELIABLE", "Best Effort": "BEST_EFFORT"}
RVIZ_DURABILITY = {"Volatile": "VOLATILE", "Transient Local": "TRANSIENT_LOCAL"}


def test_rviz_config_shows_camera_and_markers_with_qos_their_publishers_offer():
    from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

    from v2p_ros.common import latched_qos, sensor_qos

    config = yaml.safe_load((ROOT / "config" / "v2p.rviz").read_text())
    manager = config["Visualization Manager"]
    assert manager["Global Options"]["Fixed Frame"] == FRAME_ID
    displays = {d["Class"]: d for d in manager["Displays"]}
    publishers = {"rviz_default_plugins/Image": ("/camera/image_raw", sensor_qos()),  # camera_node
                  "rviz_default_plugins/MarkerArray": (MARKERS_TOPIC, latched_qos())}  # viz_node
    for cls, (topic, offered) in publishers.items():
        display = displays[cls]
        assert display["Enabled"] and display["Topic"]["Value"] == topic
        wants_reliable = RVIZ_RELIABILITY[display["Topic"]["Reliability Policy"]] == "RELIABLE"
        wants_latched = RVIZ_DURABILITY[display["Topic"]["Durability Policy"]] == "TRANSIENT_LOCAL"
        # a subscription may ask for no more than the publisher offers, or DDS never connects them
        assert not wants_reliable or offered.reliability == ReliabilityPolicy.RELIABLE, cls
        assert not wants_latched or offered.durability == DurabilityPolicy.TRANSIENT_LOCAL, cls


@pytest.mark.ros
def test_viz_node_publishes_the_workcell_and_live_economics(processes, ros_env, talker):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from visualization_msgs.msg import Marker, MarkerArray

    from v2p_ros.common import latched_qos

    talker("--float", "/econ/mp=112.4", "--float", "/econ/error_rate=0.09", "--error-target", "0.1",
           "--rate", "10")
    viz = processes.start([sys.executable, "-m", "v2p_ros.viz_node", "--ros-args", "-p", "rate_hz:=5.0"], "viz",
                          env=ros_env)
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = rclpy.create_node("viz_test_listener", context=context)
        arrays: list[MarkerArray] = []
        node.create_subscription(MarkerArray, MARKERS_TOPIC, arrays.append, latched_qos())
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        deadline = time.monotonic() + 45
        texts: dict[str, str] = {}
        while time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.2)
            assert viz.poll() is None, viz.output()
            if arrays:
                texts = {m.ns + "/" + str(m.id): m.text for m in arrays[-1].markers if m.type == m.TEXT_VIEW_FACING}
                if "Marginal product: 112.4 units/h" in texts.values() and "SLA e* 10.0%: MET" in texts.values():
                    break
        else:
            pytest.fail(f"markers never showed the published economics: {texts}\n{viz.output()}")
        markers = arrays[-1].markers
        executor.shutdown()
        node.destroy_node()
    finally:
        context.try_shutdown()
    cubes = [m for m in markers if m.type == Marker.CUBE]
    assert [m.text for m in cubes] == [b.name for b in workcell_boxes()]
    assert {m.header.frame_id for m in markers} == {FRAME_ID}
    counter = cubes[0]
    assert (counter.scale.x, counter.scale.y) == pytest.approx((1.9, 0.9))
    assert "Error rate: 9.0%" in texts.values()  # 9% against the summary's e* of 10%: met
