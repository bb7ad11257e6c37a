"""Intervals the reports print: Student t over seeds, and a paired bootstrap for ratios of pooled figures.

scipy is not a dependency: the t quantiles are tabulated (two-sided 95%).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
        20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}
BOOTSTRAP_METHOD = "paired bootstrap over shifts (percentile, 4000 resamples)"


def t_quantile_95(dof: int) -> float:
    """The two-sided 95% Student t quantile (the tabulated one at or below `dof`; 1.96 beyond 120)."""
    if dof < 1:
        raise ValueError("need at least two samples for a t interval")
    if dof > 120:
        return 1.96
    return _T95[max(d for d in _T95 if d <= dof)]


def t_interval(values: Sequence[float]) -> tuple[float, float]:
    """95% Student t interval of the mean of `values` (at least two)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        raise ValueError("need at least two samples for a t interval")
    half = t_quantile_95(x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    mean = float(x.mean())
    return mean - half, mean + half


def paired_bootstrap(statistic: Callable[[np.ndarray], float], n: int, reps: int = 4000,
                     seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of `statistic(indices)` over resamples (with replacement) of n paired units.

    The same resampled indices feed numerator and denominator of a ratio, so their correlation is kept (unlike an
    interval of the numerator divided by a fixed denominator). Deterministic for a given seed. Resamples whose
    statistic is not finite (a denominator of zero) are dropped; fewer than 95% finite gives (nan, nan).
    """
    if n < 2:
        raise ValueError("need at least two paired units for a bootstrap interval")
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, n)) for _ in range(reps)], dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < 0.95 * reps:
        return math.nan, math.nan
    lo, hi = np.quantile(values, [0.025, 0.975])
    return float(lo), float(hi)
