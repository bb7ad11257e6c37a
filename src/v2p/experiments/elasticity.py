"""How wage parity, spread and platform revenue respond to the unit price, the error cost and the human wage.

At a fixed operating point (MP, err, s_cust) each parameter is scaled over a range while the others stay at
their configured values; the elasticity is the arc elasticity d ln y / d ln x at the configured value, by central
differences (±1%), of the outcome's magnitude (a spread can be negative). Revenue (what the customer pays, from
the books of one robot-year) is zero where the work's value is floored at 0; there its elasticity is undefined
(reported as None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from v2p.config import EconomicsConfig
from v2p.economics.report import economic_report

PARAMETERS = ("unit_price", "error_cost", "human_wage")
OUTCOMES = ("wage_parity", "spread", "platform_revenue_per_robot_year")


@dataclass(frozen=True)
class ElasticityResult:
    scales: np.ndarray  # multipliers of each parameter's configured value
    curves: dict[str, dict[str, np.ndarray]]  # parameter -> outcome -> values over scales
    elasticities: dict[str, dict[str, float | None]]  # parameter -> outcome -> d ln y / d ln x


def _outcomes(mp: float, err: float, s_cust: float, cfg: EconomicsConfig) -> dict[str, float]:
    held = replace(cfg, contract=replace(cfg.contract, default_customer_share=s_cust))  # the share held fixed
    figures = economic_report(mp, err, cfg.platform.robot_hours_per_year, None, held).as_dict()
    return {name: float(figures[name]) for name in OUTCOMES}


def elasticity_analysis(
    mp: float, err: float, s_cust: float, cfg: EconomicsConfig, scales: np.ndarray | None = None
) -> ElasticityResult:
    scales = np.linspace(0.5, 1.5, 21) if scales is None else np.asarray(scales, dtype=float)
    curves: dict[str, dict[str, np.ndarray]] = {}
    elasticities: dict[str, dict[str, float | None]] = {}
    for param in PARAMETERS:
        base = getattr(cfg, param)
        rows = [_outcomes(mp, err, s_cust, replace(cfg, **{param: base * k})) for k in scales]
        curves[param] = {o: np.array([r[o] for r in rows]) for o in OUTCOMES}
        lo = _outcomes(mp, err, s_cust, replace(cfg, **{param: base * 0.99}))
        hi = _outcomes(mp, err, s_cust, replace(cfg, **{param: base * 1.01}))
        mid = _outcomes(mp, err, s_cust, cfg)
        elasticities[param] = {}
        for o in OUTCOMES:
            if mid[o] == 0 or lo[o] == 0 or hi[o] == 0 or (lo[o] > 0) != (hi[o] > 0):
                elasticities[param][o] = None
            else:
                elasticities[param][o] = (math.log(abs(hi[o])) - math.log(abs(lo[o]))) / (
                    math.log(1.01) - math.log(0.99))
    return ElasticityResult(scales, curves, elasticities)


def format_elasticity_table(result: ElasticityResult) -> str:
    header = f"{'parameter':<14}" + "".join(f"{o:>34}" for o in OUTCOMES)
    lines = ["Elasticity d ln|outcome| / d ln(parameter) at the configured values "
             "(of the magnitude: for a negative spread, a negative elasticity means the loss shrinks)", header]
    for param in PARAMETERS:
        cells = []
        for o in OUTCOMES:
            e = result.elasticities[param][o]
            cells.append(f"{'n/a' if e is None else f'{e:+.3f}':>34}")
        lines.append(f"{param:<14}" + "".join(cells))
    return "\n".join(lines)


def plot_elasticity(result: ElasticityResult, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(14, 4))
    for ax, outcome in zip(axes, OUTCOMES):
        for param in PARAMETERS:
            ax.plot(result.scales, result.curves[param][outcome], label=param)
        ax.axvline(1.0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("parameter / configured value")
        ax.set_title(outcome)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
