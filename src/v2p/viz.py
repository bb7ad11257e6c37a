"""What rviz2 and Foxglove draw, ROS-free: the workcell as boxes, text with the live economics, the Foxglove layout.

The boxes come from the simulator's scene description (`v2p_sim.scene`: the same constants `build_scene` places
its PyBullet bodies with; a test checks them against a built scene). Frame "workcell" is the sim's world frame:
metres, z up, the floor at z = 0, the robot working along x (stack at -x, sink at 0, rack at +x).
`viz_node` turns these into visualization_msgs/MarkerArray; `foxglove_layout()` is config/foxglove_layout.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from v2p.dashboard import ECON_METRICS
from v2p.task import topics
from v2p.task.dishwashing import ACTION

FRAME_ID = "workcell"

Vec3 = tuple[float, float, float]
RGBA = tuple[float, float, float, float]

# Footprints build_scene writes inline (v2p_sim.scene does not name them): the sink's basin pad and the stack.
SINK_HALF_XY = (0.22, 0.20)
SINK_PAD_HALF_Z = 0.004
STACK_HALF_XY = 0.115


@dataclass(frozen=True)
class Box:
    """A static part of the workcell: centre and full size in metres, frame "workcell"."""

    name: str
    center: Vec3
    size: Vec3
    rgba: RGBA


@dataclass(frozen=True)
class Label:
    """A line of text that faces the viewer (TEXT_VIEW_FACING), `height` metres tall."""

    key: str
    position: Vec3
    text: str
    rgba: RGBA
    height: float = 0.045


def workcell_boxes(site: object = "default") -> tuple[Box, ...]:
    """Counter, sink, scrub station, stack and rack, placed as the simulator places them for `site`
    (a site name, a site YAML path or a v2p_sim SiteConfig: the rack's length depends on the site's dishes)."""
    from v2p_sim import scene as sc
    from v2p_sim.site import load_site

    site_cfg = load_site(site)  # type: ignore[arg-type]
    (x0, x1), (y0, y1) = sc.WORKCELL_BOUNDS
    counter = Box("counter", ((x0 + x1) / 2, (y0 + y1) / 2, sc.COUNTER_TOP / 2), (x1 - x0, y1 - y0, sc.COUNTER_TOP),
                  (0.78, 0.76, 0.70, 1.0))
    sink = Box("sink", (sc.BRUSH_XY[0], sc.BRUSH_XY[1], sc.COUNTER_TOP + SINK_PAD_HALF_Z),
               (2 * SINK_HALF_XY[0], 2 * SINK_HALF_XY[1], 2 * SINK_PAD_HALF_Z), (0.30, 0.45, 0.62, 1.0))
    bx, by, bz = sc.BRUSH_HALF
    scrub = Box("scrub station", (sc.BRUSH_XY[0], sc.BRUSH_XY[1], sc.BRUSH_TOP - bz), (2 * bx, 2 * by, 2 * bz),
                (0.15, 0.42, 0.22, 1.0))
    stack_h = sc.STACK_TOP - sc.COUNTER_TOP
    stack = Box("stack", (sc.STACK_XY[0], sc.STACK_XY[1], sc.COUNTER_TOP + stack_h / 2),
                (2 * STACK_HALF_XY, 2 * STACK_HALF_XY, stack_h), (0.62, 0.58, 0.52, 1.0))
    # The rack ends past its last row of cells: the cell centre, the dish radius, the clearance, the fence.
    cells = sc.rack_cells(site_cfg)
    rack_x1 = max(c.x + site_cfg.dish(c.kind).radius_m + sc.RACK_CLEARANCE
                  for row in cells.values() for c in row) + 2 * sc.FENCE_HALF_T
    rack_h = sc.RACK_FLOOR - sc.COUNTER_TOP
    rack = Box("rack", ((sc.RACK_X0 + rack_x1) / 2, 0.0, sc.COUNTER_TOP + rack_h / 2),
               (rack_x1 - sc.RACK_X0, 2 * sc.RACK_HALF_Y, rack_h), (0.80, 0.82, 0.85, 1.0))
    return counter, sink, scrub, stack, rack


def station_labels(boxes: tuple[Box, ...]) -> tuple[Label, ...]:
    """Each part's name just above it (the counter's at its front edge)."""
    labels = []
    for box in boxes:
        x, y, z = box.center
        if box.name == "counter":
            position = (x, y - box.size[1] / 2, z + box.size[2] / 2 + 0.03)
        else:
            position = (x, y, z + box.size[2] / 2 + 0.12)
        labels.append(Label(f"station/{box.name}", position, box.name, (1.0, 1.0, 1.0, 0.9), height=0.04))
    return tuple(labels)


def economics_labels(values: Mapping[str, float], error_target: float,
                     anchor: Vec3 = (0.0, 0.45, 1.55)) -> tuple[Label, ...]:
    """One text line per /econ/* figure (formatted as `v2p top` shows it) plus the SLA verdict, stacked
    downwards from `anchor` (above the back of the counter). A figure not received yet reads "—"."""
    lines: list[tuple[str, str, RGBA]] = []
    for metric in ECON_METRICS:
        value = values.get(metric.key)
        shown = metric.format(value) if value is not None else "—"
        lines.append((metric.key, f"{metric.label}: {shown} {metric.unit}".rstrip(), (1.0, 1.0, 1.0, 1.0)))
    err = values.get("error_rate")
    if err is None:
        sla, colour = f"SLA e* {100 * error_target:.1f}%: waiting", (0.7, 0.7, 0.7, 1.0)
    elif err <= error_target:
        sla, colour = f"SLA e* {100 * error_target:.1f}%: MET", (0.2, 0.9, 0.3, 1.0)
    else:
        sla, colour = f"SLA e* {100 * error_target:.1f}%: MISSED", (1.0, 0.3, 0.25, 1.0)
    lines.insert(0, ("sla", sla, colour))
    step = 0.06
    x, y, z = anchor
    return tuple(Label(f"economics/{key}", (x, y, z - i * step), text, rgba)
                 for i, (key, text, rgba) in enumerate(lines))


def foxglove_layout() -> str:
    """The Foxglove layout config/foxglove_layout.json holds: camera image and the workcell in 3D on the left,
    plots of every /econ/* figure in the middle, the raw /policy/action messages on the right."""
    import foxglove.layouts as fl

    def plot(title: str, keys: list[str]) -> fl.PlotPanel:
        series = [fl.PlotSeries(value=f"{m.topic}.data", label=m.label) for m in ECON_METRICS if m.key in keys]
        return fl.PlotPanel(title=title, config=fl.PlotConfig(paths=series, show_legend=True))

    scene = fl.ThreeDeePanel(title="workcell", config=fl.ThreeDeeConfig(
        fixed_frame=FRAME_ID, follow_tf=FRAME_ID,
        topics={topics.VIZ_MARKERS: fl.BaseRendererRosMarkerTopicSettings(visible=True)}))
    image = fl.ImagePanel(title="camera", config=fl.ImageConfig(
        image_mode=fl.ImageModeConfig(image_topic=topics.CAMERA_IMAGE)))
    left = fl.SplitContainer(direction="column", items=[fl.SplitItem(content=image), fl.SplitItem(content=scene)])
    plots = fl.SplitContainer(direction="column", items=[
        fl.SplitItem(content=plot("output", ["mp", "wage_parity"])),
        fl.SplitItem(content=plot("quality and SLA", ["error_rate", "lambda"])),
        fl.SplitItem(content=plot("money ($/h)", ["profit", "spread"])),
        fl.SplitItem(content=plot("customer share", ["s_cust"])),
    ])
    actions = fl.SplitContainer(direction="column", items=[
        fl.SplitItem(content=fl.PlotPanel(title="actions", config=fl.PlotConfig(paths=[
            fl.PlotSeries(value=f"{topics.ACTION}.data[{i}]", label=name) for i, name in enumerate(ACTION.fields)],
            show_legend=True))),
        fl.SplitItem(content=fl.RawMessagesPanel(title="policy action", config=fl.RawMessagesConfig(
            topic_path=topics.ACTION, expansion="all"))),
    ])
    layout = fl.Layout(content=fl.SplitContainer(direction="row", items=[
        fl.SplitItem(proportion=1.2, content=left), fl.SplitItem(proportion=1.2, content=plots),
        fl.SplitItem(proportion=1, content=actions)]))
    return json.dumps(json.loads(layout.to_json()), indent=2) + "\n"
