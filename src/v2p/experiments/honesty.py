"""The attribution honesty check: does the measured s_cust tell data that teaches apart from data that does not?

For each pair of sites (`SCENARIOS`: the demo's own, `default` platform and `customer_bistro` customer; and a
clear-cut one, `scullery` plates only against `glass_bar` glasses only) three data sets are recorded like the
demo's (`v2p.experiments.pair_data`), on distinct shifts: the platform's, a customer's at the customer's site, and a
customer's at the platform's own site. One pair (`v2p.experiments.pair.measure_pair`, the same seeds, platform
policy and "without" arm for both customers) then measures:

- **different mix**: the customer's data from the other site, evaluated there. It teaches what the platform's data
  never shows, so ΔMPL_cust must be measurably above 0: its 95% interval lies above 0.
- **same site**: more shifts of the platform's own site, evaluated there. They repeat what the platform already
  knows, so the interval of ΔMPL_cust must contain 0, and the null must be precise: s_cust's interval no wider
  than the contract's `max_share_interval` (±15 pp by default). An estimator too noisy to credit anything fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from v2p.config import EconomicsConfig
from v2p.experiments.attribution import Attribution, summarize
from v2p.experiments.executor import Executor, LocalExecutor
from v2p.experiments.pair import PairBudget, measure_pair
from v2p.experiments.pair_data import DataSet, record_many
from v2p.task.observation import PolicyInput

SCENARIOS = {"demo": ("default", "customer_bistro"), "clear_cut": ("scullery", "glass_bar")}  # platform, customer
# First shift seeds of the three data sets: far apart, so no shift repeats across them (nor the pair's evaluation).
PLATFORM_SEED, SAME_SITE_SEED, CUSTOMER_SEED = 1, 1001, 2001


@dataclass(frozen=True)
class HonestyBudget:
    platform_shifts: int = 26  # the platform's data set (the demo's platform phase)
    customer_shifts: int = 16  # each customer data set (the demo's customer phase)
    pair: PairBudget = field(default_factory=PairBudget)


@dataclass(frozen=True)
class ScenarioCheck:
    platform_site: str
    customer_site: str
    different_mix: Attribution  # customer data from customer_site, evaluated there
    same_site: Attribution  # customer data from the platform's own site, evaluated there

    @property
    def different_mix_detected(self) -> bool:
        """The customer's data from another dish mix measurably raised MP: ΔMPL_cust's interval lies above 0."""
        return self.different_mix.delta_mpl_cust_ci[0] > 0

    @property
    def same_site_null(self) -> bool:
        """More of the platform's own data was not credited: ΔMPL_cust's interval contains 0."""
        low, high = self.same_site.delta_mpl_cust_ci
        return low <= 0 <= high

    @property
    def same_site_precise(self) -> bool:
        """The null was measured, not drowned in noise: s_cust's interval is no wider than the contract's limit."""
        ci = self.same_site.s_cust_ci
        return ci is not None and ci[1] - ci[0] <= self.same_site.priced.max_interval

    @property
    def passed(self) -> bool:
        return self.different_mix_detected and self.same_site_null and self.same_site_precise

    def as_dict(self) -> dict[str, object]:
        return {"platform_site": self.platform_site, "customer_site": self.customer_site,
                "different_mix": self.different_mix.as_dict(), "same_site": self.same_site.as_dict(),
                "different_mix_detected": self.different_mix_detected, "same_site_null": self.same_site_null,
                "same_site_precise": self.same_site_precise, "passed": self.passed}


@dataclass(frozen=True)
class HonestyCheck:
    scenarios: dict[str, ScenarioCheck]

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.scenarios.values())

    def as_dict(self) -> dict[str, object]:
        return {"scenarios": {k: v.as_dict() for k, v in self.scenarios.items()}, "passed": self.passed}


def datasets(work: Path, scenario: str, budget: HonestyBudget) -> dict[str, DataSet]:
    """The three data sets of a scenario, under work/bags/<scenario>/."""
    platform_site, customer_site = SCENARIOS[scenario]
    root = work / "bags" / scenario
    return {"platform": DataSet(str(root / "platform"), platform_site, budget.platform_shifts, PLATFORM_SEED),
            "same_site": DataSet(str(root / "same_site"), platform_site, budget.customer_shifts, SAME_SITE_SEED),
            "customer": DataSet(str(root / "customer"), customer_site, budget.customer_shifts, CUSTOMER_SEED)}


def check_attribution_honesty(
    work_dir: Path | str, econ: EconomicsConfig, budget: HonestyBudget = HonestyBudget(),
    scenarios: tuple[str, ...] = tuple(SCENARIOS), executor: Executor | None = None,
    policy_input: PolicyInput | None = None, log: Callable[[str], None] = lambda _: None,
) -> HonestyCheck:
    """Record each scenario's data sets under `work_dir`, then measure its pair; see the module's docstring."""
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown or not scenarios:
        raise ValueError(f"unknown honesty scenarios {unknown} (known: {', '.join(SCENARIOS)})")
    work = Path(work_dir)
    executor = executor or LocalExecutor(1)
    data = {s: datasets(work, s, budget) for s in scenarios}
    log(f"recording {budget.platform_shifts} platform shifts and {budget.customer_shifts} per customer data set "
        f"for {', '.join(scenarios)}")
    record_many([d for sets in data.values() for d in sets.values()], executor)
    checks = {}
    for scenario, sets in data.items():
        platform_site, customer_site = SCENARIOS[scenario]
        log(f"{scenario}: platform {platform_site}, customer {customer_site}")
        seeds, _ = measure_pair({"different_mix": (customer_site, [sets["customer"].folder]),
                                 "same_site": (platform_site, [sets["same_site"].folder])},
                                [sets["platform"].folder], work / "pairs" / scenario, econ, budget.pair, executor,
                                policy_input, log=log)
        checks[scenario] = ScenarioCheck(platform_site, customer_site,
                                         summarize(customer_site, seeds["different_mix"], econ),
                                         summarize(platform_site, seeds["same_site"], econ))
    return HonestyCheck(checks)
