"""Customer sites drawn at random: the kitchens a data-value corpus measures (`v2p data-value corpus`).

A drawn site keeps the platform's reference kitchen's geometry (the dishes' sizes and the rack's cells are the
robot's) and redraws what differs between kitchens: the dish mix, each type's soil (its dirt range and how much
scrub work it takes), its mass and wet friction ranges, and its fragility (the impulse that breaks it). Every draw
is a valid `SiteConfig` (it passes the same checks a site file does) and is saved as a site YAML so a robot run
can be replayed.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from v2p.task.dishwashing import DISH_TYPES
from v2p_sim.site import DishMix, DishSpec, SiteConfig, _validate, load_site


def _scaled_range(rng: np.random.Generator, lo_hi: tuple[float, float], lo: float, hi: float,
                  factor: tuple[float, float]) -> tuple[float, float]:
    f = float(rng.uniform(*factor))
    a, b = np.clip(np.asarray(lo_hi) * f, lo, hi)
    return round(float(a), 3), round(float(max(a, b)), 3)


def random_site(seed: int, base: str | SiteConfig = "default", name: str | None = None) -> SiteConfig:
    """A customer site drawn from `seed` around the `base` kitchen (see the module docstring)."""
    rng = np.random.default_rng(seed)
    base = load_site(base)
    weights = rng.dirichlet(np.full(len(DISH_TYPES), 0.8))
    weights = np.where(weights < 0.05, 0.0, weights)  # some kitchens never send a type
    mix = DishMix(**{k: round(float(w / weights.sum()), 3) for k, w in zip(DISH_TYPES, weights)})
    specs: dict[str, DishSpec] = {}
    for kind in DISH_TYPES:
        spec = base.dish(kind)
        dirt_lo = float(rng.uniform(0.0, 0.5))
        specs[kind] = replace(
            spec,
            mass_kg=_scaled_range(rng, spec.mass_kg, 0.05, 3.0, (0.7, 2.2)),
            wet_friction=_scaled_range(rng, spec.wet_friction, 0.05, 1.5, (0.25, 1.3)),
            dirt=(round(dirt_lo, 3), round(min(1.0, dirt_lo + float(rng.uniform(0.2, 0.6))), 3)),
            scrub_work_j=round(spec.scrub_work_j * float(rng.uniform(0.8, 1.6)), 2),
            break_impulse_ns=round(spec.break_impulse_ns * float(rng.uniform(0.6, 1.4)), 3),
        )
    site = replace(base, name=name or f"customer_{seed:04d}", description=f"a customer kitchen drawn from seed {seed}",
                   mix=mix, **specs)
    _validate(site, Path(f"<random site {seed}>"))
    return site


def save_site(site: SiteConfig, path: Path) -> Path:
    """Write `site` as a site YAML that `load_site` reads back to the same SiteConfig."""
    data = {"description": site.description, "shift_hours": site.shift_hours,
            "mix": {k: getattr(site.mix, k) for k in DISH_TYPES}, "pose_noise_m": site.pose_noise_m,
            "error_recovery_s": site.error_recovery_s}
    for kind in DISH_TYPES:
        spec = site.dish(kind)
        data[kind] = {k: list(v) if isinstance(v, tuple) else v for k, v in spec.__dict__.items()}
    path = Path(path)
    path.write_text(f"# {site.description}\n" + yaml.safe_dump(data, sort_keys=False))
    return path
