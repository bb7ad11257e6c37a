"""The dishes: drawing a shift's dishes from the site's ranges (`DishStack`), the one live dish body
(`DishInPlay`: spawning, the scrub work it received, its remaining dirt and its tint), and the rack (`Rack`:
its cells in turn, racked dishes as visual-only bodies).

Only the dish in play is a live dynamic body, asleep on the stack until the cup reaches it; a racked dish shows in
the camera but costs the solver nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pybullet as p

from v2p.task.dishwashing import DISH_TYPES
from v2p_sim import scene as sc
from v2p_sim.site import DishSpec, SiteConfig


@dataclass(frozen=True)
class Dish:
    """One dish of the shift, as drawn from the site's ranges."""

    index: int
    kind: str
    mass_kg: float
    wet_friction: float
    dirt: float
    offset_xy: tuple[float, float]


class DishStack:
    """The shift's dishes in order: each one's type (site mix), mass, wet friction, dirt and stack offset, drawn
    from the shift's seed."""

    def __init__(self, site: SiteConfig, seed: int) -> None:
        self.site = site
        self.rng = np.random.default_rng(seed)
        self.drawn = 0

    def draw(self) -> Dish:
        rng, site = self.rng, self.site
        w = np.array([site.mix.plate, site.mix.bowl, site.mix.glass], dtype=float)
        kind = DISH_TYPES[int(rng.choice(3, p=w / w.sum()))]
        spec = site.dish(kind)
        offset = np.clip(rng.normal(0.0, site.pose_noise_m, size=2), -3 * site.pose_noise_m, 3 * site.pose_noise_m)
        dish = Dish(self.drawn, kind, float(rng.uniform(*spec.mass_kg)), float(rng.uniform(*spec.wet_friction)),
                    float(rng.uniform(*spec.dirt)), (float(offset[0]), float(offset[1])))
        self.drawn += 1
        return dish


class DishInPlay:
    """The next dish as a body: on the stack, in hand, then racked or discarded (`body` None from then on)."""

    def __init__(self, dish: Dish, spec: DishSpec, body: int, kw: dict) -> None:
        self.dish = dish
        self.spec = spec
        self.body: int | None = body
        self.kw = kw
        self.scrub_work = 0.0  # pad normal force × sliding distance so far (N·m)
        self.last_x = sc.STACK_XY[0] + dish.offset_xy[0]  # where the dish was last measured along the stroke
        self.shown_dirt = -1.0  # the dirt its tint shows (-1: not tinted yet)

    @classmethod
    def spawn(cls, dish: Dish, scene: sc.Scene, site: SiteConfig, kw: dict) -> DishInPlay:
        """Put the dish on the stack at its offset, asleep (a sleeping body costs the solver nothing)."""
        spec = site.dish(dish.kind)
        pos = (sc.STACK_XY[0] + dish.offset_xy[0], sc.STACK_XY[1] + dish.offset_xy[1], sc.STACK_TOP + spec.height_m / 2)
        body = p.createMultiBody(dish.mass_kg, scene.dish_collision[dish.kind], scene.dish_visual[dish.kind], pos, **kw)
        p.changeDynamics(body, -1, lateralFriction=dish.wet_friction, restitution=spec.restitution,
                         spinningFriction=0.002, rollingFriction=0.0005,
                         activationState=p.ACTIVATION_STATE_ENABLE_SLEEPING, **kw)
        return cls(dish, spec, body, kw)

    def start_scrub(self) -> None:
        """The dish is pressed on the pad: sliding is measured from here."""
        self.last_x = p.getBasePositionAndOrientation(self.body, **self.kw)[0][0]

    def add_scrub(self, pad_force: float) -> None:
        """One scrub step: the pad's normal force times the distance the dish slid along the stroke since the last."""
        x = p.getBasePositionAndOrientation(self.body, **self.kw)[0][0]
        if pad_force > 0:
            self.scrub_work += pad_force * abs(x - self.last_x)
        self.last_x = x

    def remaining_dirt(self) -> float:
        return max(0.0, self.dish.dirt - self.scrub_work / self.spec.scrub_work_j)

    def soil_shown(self) -> float:
        """The soil colour's share in the dish's tint, min(1, 1.5 · dirt) of its remaining dirt to two decimals: what
        the camera shows of the dirt (a dish past 2/3 dirt looks as soiled as it gets)."""
        return min(1.0, 1.5 * round(self.remaining_dirt(), 2))

    def show_dirt(self) -> None:
        """Tint the body by its remaining dirt (to two decimals, so a frame changes its colour only when it shows)."""
        dirt = round(self.remaining_dirt(), 2)
        if dirt != self.shown_dirt and self.body is not None:
            base, soil, share = sc.DISH_RGBA[self.dish.kind], sc.DIRT_RGBA, self.soil_shown()
            rgba = [b + (s - b) * share for b, s in zip(base, soil)]
            p.changeVisualShape(self.body, -1, rgbaColor=rgba, **self.kw)
            self.shown_dirt = dirt

    def remove(self) -> None:
        """Take the body out of the world (a failed dish is cleared away)."""
        if self.body is not None:
            p.removeBody(self.body, **self.kw)
            self.body = None


class Rack:
    """The drying rack of one shift: each dish type fills its row's cells in turn; a full row is swapped for an
    empty one (its dishes vanish as the next dish takes their cell)."""

    def __init__(self, scene: sc.Scene, kw: dict) -> None:
        self.scene = scene
        self.kw = kw
        self.racked_of_kind = {k: 0 for k in DISH_TYPES}
        self.shown: dict[tuple[str, int], int] = {}  # (kind, slot) -> the visual-only body of a racked dish

    def next_cell(self, kind: str) -> tuple[int, sc.Cell]:
        """The slot and cell the next dish of `kind` goes to."""
        cells = self.scene.cells[kind]
        slot = self.racked_of_kind[kind] % len(cells)
        return slot, cells[slot]

    def rack(self, dish: DishInPlay, slot: int) -> None:
        """A seated dish becomes visual-only: it shows in the camera but costs the solver nothing."""
        kw, kind = self.kw, dish.dish.kind
        pos, orn = p.getBasePositionAndOrientation(dish.body, **kw)
        old = self.shown.pop((kind, slot), None)
        if old is not None:
            p.removeBody(old, **kw)  # the full rack was swapped for an empty one
        dish.remove()
        self.shown[(kind, slot)] = p.createMultiBody(0, -1, self.scene.dish_visual[kind], pos, orn, **kw)
        self.racked_of_kind[kind] += 1
