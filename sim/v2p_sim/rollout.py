"""Fixed-action shifts: the workcell run at one (speed, care) for a number of episodes, priced like labor."""

from __future__ import annotations

from v2p.config import EconomicsConfig, load_economics_config
from v2p.economics.labor import error_rate, implied_wage, marginal_product, wage_parity
from v2p_sim.site import SiteConfig, load_site
from v2p.task.dishwashing import ACTION, ERROR_KINDS
from v2p_sim.workcell import Workcell


def run_fixed_action(
    site: str | SiteConfig,
    speed: float,
    care: float,
    episodes: int,
    seed: int,
    shift_hours: float | None = None,
    econ_config: EconomicsConfig | None = None,
    workcell: Workcell | None = None,
) -> dict:
    """Run `episodes` shifts (seeds seed, seed+1, ...) at one action and aggregate them.

    Returns units, attempts, errors, errors_by_type, sim_hours, mp (units/h), err_rate, implied_wage ($/h),
    wage_parity, episodes, speed, care. Pass `workcell` to reuse one physics client across calls (a sweep does).
    """
    speed, care = ACTION.parse((speed, care))
    if int(episodes) < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes!r}")
    cfg = econ_config or load_economics_config()
    site_cfg = load_site(site)
    own = workcell is None
    wc = workcell if workcell is not None else Workcell(site_cfg, seed=int(seed))
    if wc.site != site_cfg:
        raise ValueError(f"the workcell runs site {wc.site.name!r}, not {site_cfg.name!r}")
    wc.shift_hours = float(shift_hours) if shift_hours is not None else site_cfg.shift_hours
    units = attempts = 0
    by_type = {k: 0 for k in ERROR_KINDS}
    seconds = 0.0
    try:
        for episode in range(int(episodes)):
            wc.reset(int(seed) + episode)
            while not wc.shift_done:
                wc.run_cycle(speed, care)
            units += wc.units
            attempts += wc.attempts
            for k in ERROR_KINDS:
                by_type[k] += wc.errors_by_type[k]
            seconds += wc.sim_time_s
    finally:
        if own:
            wc.close()
    hours = seconds / 3600.0
    errors = sum(by_type.values())
    mp = marginal_product(units, hours)
    err = error_rate(errors, attempts)
    wage = implied_wage(mp, errors_per_hour=errors / hours, cfg=cfg)
    return {
        "site": site_cfg.name,
        "speed": speed,
        "care": care,
        "episodes": int(episodes),
        "seed": int(seed),
        "units": units,
        "attempts": attempts,
        "errors": errors,
        "errors_by_type": by_type,
        "sim_hours": hours,
        "mp": mp,
        "err_rate": err,
        "implied_wage": wage,
        "wage_parity": wage_parity(wage, cfg),
    }
