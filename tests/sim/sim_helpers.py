"""Helpers for the simulator tests: sites restricted to one dish type, short shifts."""

from __future__ import annotations

from dataclasses import replace

from v2p_sim import load_site
from v2p_sim.site import DishMix, SiteConfig

SHORT_SHIFT_H = 0.03  # ~4-6 dish cycles: enough to see behaviour, cheap enough for the default suite


def one_kind_site(kind: str, site: str = "default") -> SiteConfig:
    """The site with only `kind` dishes on the stack (scripted scenarios need to know what they pick)."""
    mix = DishMix(**{k: (1.0 if k == kind else 0.0) for k in ("plate", "bowl", "glass")})
    return replace(load_site(site), mix=mix)
