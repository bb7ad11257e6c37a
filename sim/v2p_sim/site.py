"""Site configuration: the dish mix a customer's kitchen sends the robot, and how much each dish varies.

A site file (config/sites/NAME.yaml) describes the dishes, not the robot: the robot, its controller and the
rack are the platform's and are the same at every site. Each shift draws every dish's mass, wet friction and dirt
uniformly from the site's ranges, and its pose on the stack from a Gaussian of `pose_noise_m`.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

from v2p.config import CONFIG_DIR, build_dataclass, read_yaml_mapping
from v2p.errors import ConfigError
from v2p.task.dishwashing import DISH_TYPES

SITES_DIR = CONFIG_DIR / "sites"


@dataclass(frozen=True)
class DishSpec:
    """One dish type at one site. Geometry is a cylinder (glasses stand upside down, picked by the foot)."""

    radius_m: float
    height_m: float
    mass_kg: tuple[float, float]            # (min, max), uniform per dish
    wet_friction: tuple[float, float]       # (min, max): friction of the wet surface, also the suction seal's
    dirt: tuple[float, float]               # (min, max) dirt level in [0, 1]; 1 needs the full scrub work
    scrub_work_j: float                     # scrub work (pad normal force × sliding distance) that cleans dirt 1.0
    break_impulse_ns: float                 # the single-step contact impulse (N·s) that breaks it
    restitution: float


@dataclass(frozen=True)
class DishMix:
    """Relative frequency of each dish type on the stack (normalised; need not sum to 1)."""

    plate: float
    bowl: float
    glass: float


@dataclass(frozen=True)
class SiteConfig:
    """A customer site: its dish mix, the dishes' variation, and the shift length of one episode."""

    name: str
    description: str
    shift_hours: float                      # simulated hours per episode (one shift)
    mix: DishMix
    plate: DishSpec
    bowl: DishSpec
    glass: DishSpec
    pose_noise_m: float                     # std of a dish's xy offset on the stack
    error_recovery_s: float                 # time a failed dish costs to clear away (shards, a dish on the floor)

    def dish(self, kind: str) -> DishSpec:
        return {"plate": self.plate, "bowl": self.bowl, "glass": self.glass}[kind]


def load_site(name_or_path: str | Path | SiteConfig) -> SiteConfig:
    """Load config/sites/NAME.yaml (or a YAML path); a bad or missing value raises ConfigError naming the key."""
    if isinstance(name_or_path, SiteConfig):
        return name_or_path
    text = str(name_or_path)
    path = Path(text) if (text.endswith((".yaml", ".yml")) or "/" in text) else SITES_DIR / f"{text}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in SITES_DIR.glob("*.yaml")))
        raise ConfigError(path, None, f"no such site file (known sites: {known})")
    data = read_yaml_mapping(path)
    data.setdefault("name", path.stem)
    data.setdefault("description", "")
    for kind in DISH_TYPES:  # YAML lists become the (min, max) tuples the dataclass holds
        spec = data.get(kind)
        if isinstance(spec, dict):
            data[kind] = {k: _pair(v, path, f"{kind}.{k}") if k in _RANGE_KEYS else v for k, v in spec.items()}
    _require(SiteConfig, data, path, "")
    site = build_dataclass(SiteConfig, data, path)  # (min, max) tuples pass through, checked by _pair
    _validate(site, path)
    return site


_RANGE_KEYS = {"mass_kg", "wet_friction", "dirt"}


def _pair(value: Any, path: Path, key: str) -> Any:
    if not isinstance(value, list) or len(value) != 2:
        raise ConfigError(path, key, f"must be a [min, max] list, got {value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(path, key, f"must hold two finite numbers, got {value!r}")
    if value[0] > value[1]:
        raise ConfigError(path, key, f"min must not exceed max, got {value!r}")
    return (float(value[0]), float(value[1]))


def _require(cls: type, data: Any, path: Path, prefix: str) -> None:
    """Every field without a default must be present: name the first missing key."""
    if not isinstance(data, dict):
        return  # build_dataclass reports the wrong type with the key
    for f in fields(cls):
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(path, f"{prefix}{f.name}", "missing")
            continue
        sub = get_type_hints(cls)[f.name]
        if is_dataclass(sub):
            _require(sub, data[f.name], path, f"{prefix}{f.name}.")


def _validate(site: SiteConfig, path: Path) -> None:
    def need(ok: bool, key: str, problem: str) -> None:
        if not ok:
            raise ConfigError(path, key, problem)

    need(0 < site.shift_hours <= 24, "shift_hours", f"must lie in (0, 24], got {site.shift_hours}")
    weights = [site.mix.plate, site.mix.bowl, site.mix.glass]
    for kind, w in zip(DISH_TYPES, weights):
        need(w >= 0, f"mix.{kind}", f"must not be negative, got {w}")
    need(sum(weights) > 0, "mix", "at least one dish type needs a positive weight")
    need(0 <= site.pose_noise_m <= 0.03, "pose_noise_m", f"must lie in [0, 0.03] m, got {site.pose_noise_m}")
    need(0 <= site.error_recovery_s <= 600, "error_recovery_s", f"must lie in [0, 600] s, got {site.error_recovery_s}")
    for kind in DISH_TYPES:
        d = site.dish(kind)
        need(0.02 <= d.radius_m <= 0.10, f"{kind}.radius_m",
             f"must lie in [0.02, 0.10] m (the rack's cells), got {d.radius_m}")
        need(0.01 <= d.height_m <= 0.15, f"{kind}.height_m", f"must lie in [0.01, 0.15] m, got {d.height_m}")
        need(0.05 <= d.mass_kg[0] and d.mass_kg[1] <= 3.0, f"{kind}.mass_kg",
             f"must lie in [0.05, 3.0] kg, got {list(d.mass_kg)}")
        need(0.05 <= d.wet_friction[0] and d.wet_friction[1] <= 1.5, f"{kind}.wet_friction",
             f"must lie in [0.05, 1.5], got {list(d.wet_friction)}")
        need(0 <= d.dirt[0] and d.dirt[1] <= 1, f"{kind}.dirt", f"must lie in [0, 1], got {list(d.dirt)}")
        need(d.scrub_work_j > 0, f"{kind}.scrub_work_j", f"must be positive, got {d.scrub_work_j}")
        need(d.break_impulse_ns > 0, f"{kind}.break_impulse_ns", f"must be positive, got {d.break_impulse_ns}")
        need(0 <= d.restitution < 1, f"{kind}.restitution", f"must lie in [0, 1), got {d.restitution}")
