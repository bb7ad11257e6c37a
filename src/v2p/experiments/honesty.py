"""The attribution honesty check: does the measured s_cust tell data that teaches apart from data that does not?

Two counterfactual pairs, trained as `measure_attribution` trains one (`PairTrainer`), from one platform data set:

- **different mix**: the customer's data comes from a site whose dish mix and best operating point the platform's
  data never shows (`glass_bar`: glasses only, best at full speed; the platform's `scullery`: plates only, best at
  about half speed). The customer's data teaches the policy something, so ΔMPL_cust must be measurably above 0:
  its confidence interval lies above 0.
- **same site**: the customer's data is more shifts of the platform's own site. It repeats what the platform
  already knows, so the confidence interval of ΔMPL_cust must contain 0.

All data sets are recorded with uniform exploration (`record_shifts`), on distinct shifts. Both pairs share their
"without" arm (the platform's policy fine-tuned on the platform's data alone, evaluated on each site), so a seed
costs four fits, not six; seeds run in parallel worker processes.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from v2p.config import EconomicsConfig
from v2p.experiments.attribution import Attribution, PairTrainer, SeedMeasurement, evaluate_mp, summarize
from v2p.experiments.recording import record_shifts

PLATFORM_SITE = "scullery"
CUSTOMER_SITE = "glass_bar"
# First episode seeds of the three data sets: far apart, so no shift repeats across them.
PLATFORM_SEED, SAME_SITE_SEED, CUSTOMER_SEED = 1, 1001, 2001


@dataclass(frozen=True)
class HonestyBudget:
    platform_shifts: int = 48  # the platform's data set: twice a customer's, so that more of the same adds little
    customer_shifts: int = 24  # each customer data set (other site, same site)
    seeds: int = 4             # seeds of each counterfactual pair
    steps: int = 2500          # SAC updates per fit (platform policy, then each fine-tuning)
    eval_episodes: int = 2     # evaluation shifts per policy and seed


@dataclass(frozen=True)
class HonestyCheck:
    different_mix: Attribution  # customer data from CUSTOMER_SITE, evaluated there
    same_site: Attribution      # customer data from the platform's own site, evaluated there

    @property
    def different_mix_detected(self) -> bool:
        """The customer's data from another dish mix measurably raised MP: ΔMPL_cust's CI lies above 0."""
        return self.different_mix.delta_mpl_cust_ci[0] > 0

    @property
    def same_site_null(self) -> bool:
        """More of the platform's own data was not credited: ΔMPL_cust's CI contains 0."""
        low, high = self.same_site.delta_mpl_cust_ci
        return low <= 0 <= high

    @property
    def passed(self) -> bool:
        return self.different_mix_detected and self.same_site_null

    def as_dict(self) -> dict[str, object]:
        return {"different_mix": self.different_mix.as_dict(), "same_site": self.same_site.as_dict(),
                "different_mix_detected": self.different_mix_detected, "same_site_null": self.same_site_null,
                "passed": self.passed}


def _record(args: tuple[str, str, int, int]) -> str:
    folder, site, shifts, seed = args
    return str(record_shifts(folder, site, shifts, seed))


def _measure_seed(args: tuple[int, Path, HonestyBudget, Path, EconomicsConfig]
                  ) -> tuple[SeedMeasurement, SeedMeasurement]:
    """One seed of both pairs: (different mix, same site)."""
    seed, bags, budget, work, econ = args
    platform, customer, same_site = (str(bags / name) for name in ("platform", "customer", "same_site"))
    train = PairTrainer([platform], budget.steps, work, econ)
    without = train([platform], seed)

    def measured(site: str, with_customer: object) -> SeedMeasurement:
        return SeedMeasurement(seed, *(evaluate_mp(policy, site, budget.eval_episodes, seed)
                                       for policy in (None, without, with_customer)))

    return (measured(CUSTOMER_SITE, train([platform, customer], seed)),
            measured(PLATFORM_SITE, train([platform, same_site], seed)))


def check_attribution_honesty(
    work_dir: Path | str, econ: EconomicsConfig, budget: HonestyBudget = HonestyBudget(), workers: int = 2,
    log: Callable[[str], None] = lambda _: None,
) -> HonestyCheck:
    """Record the three data sets under `work_dir`, then measure both pairs; see the module's docstring."""
    if budget.seeds < 2:
        raise ValueError(f"the honesty check needs at least two seeds, got {budget.seeds}")
    work = Path(work_dir)
    bags = work / "bags"
    datasets = {"platform": (PLATFORM_SITE, PLATFORM_SEED, budget.platform_shifts),
                "same_site": (PLATFORM_SITE, SAME_SITE_SEED, budget.customer_shifts),
                "customer": (CUSTOMER_SITE, CUSTOMER_SEED, budget.customer_shifts)}
    seeds = list(range(budget.seeds))
    # spawn: torch and PyBullet must not inherit a forked parent's threads or physics clients
    with ProcessPoolExecutor(max_workers=max(1, int(workers)), mp_context=mp.get_context("spawn")) as pool:
        log(f"recording uniform-exploration shifts: {budget.platform_shifts} of the platform's, "
            f"{budget.customer_shifts} for each customer data set")
        for bag in pool.map(_record, [(str(bags / name), site, shifts, seed)
                                      for name, (site, seed, shifts) in datasets.items()]):
            log(f"recorded {bag}")
        log(f"measuring both pairs over {budget.seeds} seeds, {budget.steps} updates per fit")
        per_seed = list(pool.map(_measure_seed, [(seed, bags, budget, work / "pairs", econ) for seed in seeds]))
    return HonestyCheck(summarize(CUSTOMER_SITE, [d for d, _ in per_seed]),
                        summarize(PLATFORM_SITE, [s for _, s in per_seed]))
