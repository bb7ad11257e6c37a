"""Measured data valuation: the counterfactual pair behind s_cust.

For each seed the same learner, budget and seed train two policies: one on the platform's data alone and one on
the platform's plus the customer's data. Both, and the untrained policy the robot starts from, are evaluated on the
customer's site over the same evaluation shifts (common random numbers, so the differences are paired):

    ΔMPL_cust  = MP(with customer data) − MP(without)          the gain the customer's data caused
    ΔMPL_total = MP(with customer data) − MP(untrained)        the whole gain learning brought to that site
    s_cust     = mean ΔMPL_cust / mean ΔMPL_total, clipped to [0, 1]

The confidence interval is Student's t over the seeds' paired ΔMPL_cust, divided by the mean total gain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from statistics import mean, stdev

from v2p.economics.spread import attribution_shares

# Two-sided 95% Student t quantiles by degrees of freedom (scipy is not a dependency).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}


def t_quantile_95(dof: int) -> float:
    if dof < 1:
        raise ValueError("need at least two seeds for a confidence interval")
    known = [d for d in sorted(_T95) if d <= dof]
    return _T95[known[-1]] if dof <= 30 else 1.96


@dataclass(frozen=True)
class SeedMeasurement:
    seed: int
    mp_untrained: float
    mp_without: float
    mp_with: float

    @property
    def delta_mpl_cust(self) -> float:
        return self.mp_with - self.mp_without

    @property
    def delta_mpl_total(self) -> float:
        return self.mp_with - self.mp_untrained


@dataclass(frozen=True)
class Attribution:
    site: str
    seeds: list[SeedMeasurement]
    delta_mpl_cust: float
    delta_mpl_total: float
    s_cust: float
    s_cust_ci: tuple[float, float]
    delta_mpl_cust_ci: tuple[float, float]

    def as_dict(self) -> dict[str, object]:
        return {
            "site": self.site, "delta_mpl_cust": self.delta_mpl_cust, "delta_mpl_total": self.delta_mpl_total,
            "s_cust": self.s_cust, "s_cust_ci": list(self.s_cust_ci), "delta_mpl_cust_ci": list(self.delta_mpl_cust_ci),
            "seeds": [asdict(s) | {"delta_mpl_cust": s.delta_mpl_cust, "delta_mpl_total": s.delta_mpl_total}
                      for s in self.seeds],
        }


def summarize(site: str, seeds: list[SeedMeasurement]) -> Attribution:
    cust = [s.delta_mpl_cust for s in seeds]
    total = [s.delta_mpl_total for s in seeds]
    d_cust, d_total = mean(cust), mean(total)
    half = t_quantile_95(len(seeds) - 1) * stdev(cust) / math.sqrt(len(seeds))
    s_cust, _ = attribution_shares(d_cust, d_total)
    if d_total > 0:
        lo, hi = (d_cust - half) / d_total, (d_cust + half) / d_total
    else:
        lo, hi = -math.inf, math.inf  # no gain to share: the interval says nothing
    return Attribution(site, seeds, d_cust, d_total, s_cust, (lo, hi), (d_cust - half, d_cust + half))


TrainFn = Callable[[list, int], object]  # (bag folders, seed) -> policy
EvalFn = Callable[[object | None, int], float]  # (policy or None for untrained, seed) -> MP at the customer's site


def counterfactual_attribution(
    site: str, platform_bags: list, customer_bags: list, seeds: list[int], train: TrainFn, evaluate: EvalFn
) -> Attribution:
    """Train with and without the customer's data from the same seeds and budget; evaluate paired."""
    if len(seeds) < 2:
        raise ValueError("attribution needs at least two seeds for its confidence interval")
    measured = []
    for seed in seeds:
        without = train(list(platform_bags), seed)
        with_customer = train(list(platform_bags) + list(customer_bags), seed)
        measured.append(SeedMeasurement(seed, evaluate(None, seed), evaluate(without, seed),
                                        evaluate(with_customer, seed)))
    return summarize(site, measured)
