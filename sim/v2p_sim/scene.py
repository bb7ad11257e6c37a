"""The workcell's static scene: counter, dish stack, sink with scrub pad, drying rack, the gantry, and the camera.

World frame: metres, z up, the floor at z = 0; the robot works along x (stack at -x, sink at 0, rack at +x) and
the camera looks from -y. Everything here is static except the gantry; the dish in play is added by the Workcell.
Static parts are single bodies with primitive collision shapes so the broadphase and the renderer stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pybullet as p

from v2p.task.dishwashing import DISH_TYPES
from v2p_sim.site import SiteConfig

COUNTER_TOP = 0.90
STACK_XY = (-0.55, 0.0)
STACK_TOP = 0.98                 # the top of the stack the next dish sits on
BRUSH_XY = (0.0, 0.0)
BRUSH_TOP = 0.96
BRUSH_HALF = (0.12, 0.10, 0.02)
BRUSH_FRICTION = 0.35
RACK_FLOOR = 0.92
RACK_X0 = 0.29                   # the rack's -x edge; rows of cells follow in +x, one row per dish type
RACK_HALF_Y = 0.30
RACK_CLEARANCE = 0.010           # a dish seats if it lands within this of its cell's centre
FENCE_HALF_T = 0.003
FENCE_HEIGHT = 0.015
GANTRY_BASE = (0.0, 0.0, 1.80)
CUP_FACE_AT_ZERO = 1.22          # world z of the cup face at z-joint 0 (gantry.urdf: base - 0.58)
CUP_LINK = 2
AXIS_MASS = (6.4, 2.4, 0.4)      # kg the x, y and z servos move (gantry.urdf)
WORKCELL_BOUNDS = ((-0.95, 0.95), (-0.45, 0.45))  # the counter; a dish off it has left the workcell

DISH_RGBA = {"plate": (0.96, 0.96, 0.93, 1.0), "bowl": (0.70, 0.84, 0.95, 1.0), "glass": (0.72, 0.95, 0.92, 1.0)}
DIRT_RGBA = (0.45, 0.30, 0.12, 1.0)


@dataclass(frozen=True)
class Cell:
    """One rack cell: where a dish of `kind` is seated (the seat is the rack floor)."""

    kind: str
    x: float
    y: float


@dataclass(frozen=True)
class Scene:
    arm: int
    brush: int
    rack: int
    cells: dict[str, tuple[Cell, ...]]
    dish_collision: dict[str, int]
    dish_visual: dict[str, int]


def asset_path(name: str) -> str:
    return str(resources.files("v2p_sim") / "assets" / name)


def rack_cells(site: SiteConfig) -> dict[str, tuple[Cell, ...]]:
    """One row of cells per dish type, sized to the site's dishes, as many per row as fit the rack's width."""
    cells: dict[str, tuple[Cell, ...]] = {}
    x = RACK_X0
    for kind in DISH_TYPES:
        pitch = 2 * (site.dish(kind).radius_m + RACK_CLEARANCE + 2 * FENCE_HALF_T)
        n = max(1, min(4, int(2 * RACK_HALF_Y / pitch)))
        row_x = x + pitch / 2
        ys = (np.arange(n) - (n - 1) / 2) * pitch
        cells[kind] = tuple(Cell(kind, float(row_x), float(y)) for y in ys)
        x += pitch
    return cells


def build_scene(client: int, site: SiteConfig) -> Scene:
    """Create the static scene in `client` (after resetSimulation) and return the ids the Workcell needs."""
    kw = {"physicsClientId": client}

    def static_box(half: tuple[float, float, float], pos: tuple[float, float, float], rgba: tuple,
                   collide: bool = True) -> int:
        col = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, **kw) if collide else -1
        vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=rgba, **kw)
        return p.createMultiBody(0, col, vis, pos, **kw)

    floor = p.createMultiBody(0, p.createCollisionShape(p.GEOM_PLANE, **kw), -1, (0, 0, 0), **kw)
    p.changeDynamics(floor, -1, lateralFriction=0.6, **kw)
    p.changeVisualShape(floor, -1, rgbaColor=(0.35, 0.33, 0.30, 1), textureUniqueId=-1, **kw)
    static_box((0.95, 0.45, COUNTER_TOP / 2), (0, 0, COUNTER_TOP / 2), (0.78, 0.76, 0.70, 1))
    sink = (BRUSH_XY[0], BRUSH_XY[1], COUNTER_TOP + 0.004)
    static_box((0.22, 0.20, 0.004), sink, (0.30, 0.45, 0.62, 1), collide=False)
    brush = static_box(BRUSH_HALF, (BRUSH_XY[0], BRUSH_XY[1], BRUSH_TOP - BRUSH_HALF[2]), (0.15, 0.42, 0.22, 1))
    p.changeDynamics(brush, -1, lateralFriction=BRUSH_FRICTION, **kw)
    stack_h = STACK_TOP - COUNTER_TOP
    stack = static_box((0.115, 0.115, stack_h / 2), (STACK_XY[0], STACK_XY[1], COUNTER_TOP + stack_h / 2),
                       (0.62, 0.58, 0.52, 1))
    p.changeDynamics(stack, -1, lateralFriction=0.6, **kw)

    cells = rack_cells(site)
    rack = _build_rack(client, cells, site)

    arm = p.loadURDF(asset_path("gantry.urdf"), GANTRY_BASE, useFixedBase=True, **kw)
    for j in range(3):
        p.changeDynamics(arm, j, linearDamping=0.0, angularDamping=0.0, jointDamping=0.0, **kw)
    p.changeDynamics(arm, CUP_LINK, lateralFriction=0.8, **kw)
    # a servo command does not wake a sleeping multibody: the arm must never fall asleep while it waits
    p.changeDynamics(arm, -1, activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING, **kw)

    dish_collision, dish_visual = {}, {}
    for kind in DISH_TYPES:
        d = site.dish(kind)
        dish_collision[kind] = p.createCollisionShape(p.GEOM_CYLINDER, radius=d.radius_m, height=d.height_m, **kw)
        dish_visual[kind] = p.createVisualShape(p.GEOM_CYLINDER, radius=d.radius_m, length=d.height_m,
                                                rgbaColor=DISH_RGBA[kind], **kw)
    return Scene(arm, brush, rack, cells, dish_collision, dish_visual)


def _build_rack(client: int, cells: dict[str, tuple[Cell, ...]], site: SiteConfig) -> int:
    """The rack floor, and a low fence around every cell as one static compound body (returned)."""
    kw = {"physicsClientId": client}
    x1 = max(c.x + site.dish(c.kind).radius_m + RACK_CLEARANCE for row in cells.values() for c in row)
    x1 += 2 * FENCE_HALF_T
    floor_half = ((x1 - RACK_X0) / 2, RACK_HALF_Y, (RACK_FLOOR - COUNTER_TOP) / 2)
    floor_pos = ((x1 + RACK_X0) / 2, 0.0, (RACK_FLOOR + COUNTER_TOP) / 2)
    floor = p.createMultiBody(0, p.createCollisionShape(p.GEOM_BOX, halfExtents=floor_half, **kw),
                              p.createVisualShape(p.GEOM_BOX, halfExtents=floor_half, rgbaColor=(0.80, 0.82, 0.85, 1),
                                                  **kw),
                              floor_pos, **kw)
    p.changeDynamics(floor, -1, lateralFriction=0.5, **kw)
    halves, centres = [], []
    for row in cells.values():
        for c in row:
            inner = site.dish(c.kind).radius_m + RACK_CLEARANCE
            z = RACK_FLOOR + FENCE_HEIGHT / 2
            for sx, sy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                off = inner + FENCE_HALF_T
                centres.append((c.x + sx * off, c.y + sy * off, z))
                along = inner + 2 * FENCE_HALF_T
                half_z = FENCE_HEIGHT / 2
                halves.append((FENCE_HALF_T, along, half_z) if sx else (along, FENCE_HALF_T, half_z))
    n = len(halves)
    col = p.createCollisionShapeArray([p.GEOM_BOX] * n, halfExtents=halves, collisionFramePositions=centres, **kw)
    vis = p.createVisualShapeArray([p.GEOM_BOX] * n, halfExtents=halves, visualFramePositions=centres, **kw)
    fences = p.createMultiBody(0, col, vis, (0, 0, 0), **kw)
    p.changeVisualShape(fences, -1, rgbaColor=(0.45, 0.48, 0.52, 1), **kw)
    p.changeDynamics(fences, -1, lateralFriction=0.5, **kw)
    return fences


class Camera:
    """The fixed workcell camera (front, above the counter), rendered with PyBullet's CPU TinyRenderer."""

    def __init__(self, client: int) -> None:
        self.client = client
        self.view = p.computeViewMatrix((0.10, -0.80, 2.30), (0.10, 0.02, 0.95), (0, 0, 1), physicsClientId=client)
        self.projection = p.computeProjectionMatrixFOV(60.0, 1.0, 0.1, 4.0, physicsClientId=client)

    def render(self, size: int) -> np.ndarray:
        _, _, rgba, _, _ = p.getCameraImage(
            size, size, self.view, self.projection, renderer=p.ER_TINY_RENDERER,
            flags=p.ER_NO_SEGMENTATION_MASK, shadow=0, lightDirection=(0.4, -0.6, 1.0),
            physicsClientId=self.client,
        )
        return np.asarray(rgba, dtype=np.uint8).reshape(size, size, 4)[:, :, :3].copy()
