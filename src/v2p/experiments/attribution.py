"""Measured data valuation: s_cust from the counterfactual pair, its interval, and the share it may price.

The pair (`v2p.experiments.pair`) gives per seed the MP (clean units per hour) at the customer's site of the policy
fine-tuned with the customer's data, of the one fine-tuned without it (same platform policy, seed, updates and
shifts), and of the reference (the commissioning default `ACTION.safe` on the same shifts):

    ΔMPL_cust  = MP(with) − MP(without)        the gain the customer's data caused
    ΔMPL_total = MP(with) − MP(reference)      the whole gain learning brought to that site
    s_cust     = mean ΔMPL_cust / mean ΔMPL_total, clipped to [0, 1]

The interval of s_cust is Fieller's for a ratio of paired means (`fieller_interval`): it holds the numerator's
and the denominator's variance and their covariance over the seeds, with Student's t on n − 1 degrees of freedom;
when the total gain is not significantly above 0 the set is unbounded and there is no interval. The share the
episode is priced with follows the contract's rule (`v2p.economics.pricing.price_share`): the measured s_cust
when its interval is no wider than `contract.max_share_interval`, else the contract's default share.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from v2p.config import EconomicsConfig
from v2p.economics.pricing import PricedShare, ShareEvidence, price_share
from v2p.economics.spread import attribution_shares
from v2p.errors import V2PError
from v2p.experiments.executor import Executor
from v2p.experiments.pair import PairBudget, SeedMeasurement, measure_pair
from v2p.experiments.stats import t_interval, t_quantile_95
from v2p.task.observation import PolicyInput


def fieller_interval(numerator: Sequence[float], denominator: Sequence[float]) -> tuple[float, float] | None:
    """Fieller's 95% interval for mean(numerator) / mean(denominator) over paired samples (at least two), with
    Student's t on n − 1 dof; None when the denominator's mean is not significantly nonzero (the set is then
    unbounded)."""
    a, b = np.asarray(numerator, np.float64), np.asarray(denominator, np.float64)
    if a.shape != b.shape or a.size < 2:
        raise ValueError("Fieller's interval needs paired samples, at least two")
    n = a.size
    cov = np.cov(np.stack([a, b]), ddof=1) / n  # the (co)variances of the two means
    q = t_quantile_95(n - 1) ** 2
    ma, mb = float(a.mean()), float(b.mean())
    # (ma − θ mb)² ≤ q (v_aa − 2θ v_ab + θ² v_bb), a quadratic A θ² − 2 B θ + C ≤ 0
    big_a = mb * mb - q * cov[1, 1]
    big_b = ma * mb - q * cov[0, 1]
    big_c = ma * ma - q * cov[0, 0]
    if big_a <= 0:
        return None
    root = math.sqrt(max(big_b * big_b - big_a * big_c, 0.0))  # ≥ 0: θ = ma/mb always lies in the set
    return (big_b - root) / big_a, (big_b + root) / big_a


def fieller_method(seeds: int) -> str:
    return f"Fieller 95% for a ratio of paired means over {seeds} seeds (Student t, {seeds - 1} dof)"


@dataclass(frozen=True)
class Attribution:
    site: str
    seeds: list[SeedMeasurement]
    delta_mpl_cust: float
    delta_mpl_cust_ci: tuple[float, float]  # Student t over the seeds' paired differences
    delta_mpl_total: float
    s_cust: float  # measured
    s_cust_ci: tuple[float, float] | None  # Fieller; None: unbounded (no significant total gain)
    ci_method: str
    priced: PricedShare  # the share the contract's rule prices the customer's episodes with

    @property
    def s_cust_rule(self) -> str:
        return self.priced.rule

    @property
    def mp_spread(self) -> dict[str, float]:
        """The seed-to-seed standard deviation of each arm's MP (units/h)."""
        return {arm: float(np.std([getattr(s, f"mp_{arm}") for s in self.seeds], ddof=1))
                for arm in ("without", "with")}

    @property
    def evaluation_share(self) -> float | None:
        """The part of ΔMPL_cust's seed-to-seed variance that the evaluation shifts explain (their within-seed
        variance over the shift count), the rest being training noise; None with one shift per seed."""
        per_seed = [np.var([w - wo for _, wo, w in s.shift_mp], ddof=1) / len(s.shift_mp) for s in self.seeds
                    if len(s.shift_mp) > 1]
        total = float(np.var([s.delta_mpl_cust for s in self.seeds], ddof=1))
        if not per_seed or total <= 0:
            return None
        return float(np.mean(per_seed)) / total

    def as_dict(self) -> dict[str, object]:
        return {
            "site": self.site, "delta_mpl_cust": self.delta_mpl_cust, "delta_mpl_cust_ci": list(self.delta_mpl_cust_ci),
            "delta_mpl_total": self.delta_mpl_total, "s_cust": self.s_cust,
            "s_cust_ci": None if self.s_cust_ci is None else list(self.s_cust_ci), "ci_method": self.ci_method,
            "s_cust_rule": self.s_cust_rule, "s_cust_priced": self.priced.share,
            "max_share_interval": self.priced.max_interval, "mp_spread": self.mp_spread,
            "evaluation_share": self.evaluation_share,
            "seeds": [asdict(s) | {"delta_mpl_cust": s.delta_mpl_cust, "delta_mpl_total": s.delta_mpl_total}
                      for s in self.seeds],
        }


def summarize(site: str, seeds: list[SeedMeasurement], econ: EconomicsConfig) -> Attribution:
    """ΔMPL_cust with its t interval, s_cust with Fieller's, and the share the contract's rule prices with."""
    if len(seeds) < 2:
        raise ValueError("attribution needs at least two seeds for its intervals")
    cust = [s.delta_mpl_cust for s in seeds]
    total = [s.delta_mpl_total for s in seeds]
    d_cust, d_total = float(np.mean(cust)), float(np.mean(total))
    s_cust, _ = attribution_shares(d_cust, d_total)
    ci = fieller_interval(cust, total)
    method = fieller_method(len(seeds))
    evidence = ShareEvidence(s_cust, "measured", ci, method if ci is not None else
                             f"{method}: unbounded, the total gain is not significantly above 0")
    return Attribution(site, list(seeds), d_cust, t_interval(cust), d_total, s_cust, ci, method,
                       price_share(evidence, econ.contract))


def report_lines(a: Attribution) -> list[str]:
    """The printed report: a row per seed, ΔMPL_cust and ΔMPL_total, s_cust with its interval and method, and the
    rule that prices the customer's episodes."""
    rows = [f"{'seed':>5}{'MP reference':>14}{'MP without':>12}{'MP with':>10}{'ΔMPL_cust':>11}{'ΔMPL_total':>12}"]
    rows += [f"{s.seed:>5}{s.mp_reference:>14.1f}{s.mp_without:>12.1f}{s.mp_with:>10.1f}{s.delta_mpl_cust:>11.1f}"
             f"{s.delta_mpl_total:>12.1f}" for s in a.seeds]
    low, high = a.delta_mpl_cust_ci
    spread = a.mp_spread
    rows.append(f"ΔMPL_cust {a.delta_mpl_cust:.1f} units/h (95% CI {low:.1f} .. {high:.1f}, Student t); "
                f"ΔMPL_total {a.delta_mpl_total:.1f} units/h; MP spread between seeds (sd) without "
                f"{spread['without']:.1f}, with {spread['with']:.1f}")
    ci = ("unbounded: no significant total gain" if a.s_cust_ci is None
          else f"95% CI {a.s_cust_ci[0]:.1%} .. {a.s_cust_ci[1]:.1%}")
    rows.append(f"s_cust {a.s_cust:.1%} ({ci}; {a.ci_method})")
    p = a.priced
    rule = (f"the measured share (interval within the contract's {p.max_interval:.0%})" if p.rule == "measured"
            else f"the contract's default share ({p.method})")
    rows.append(f"priced at s_cust {p.share:.1%}: {rule}")
    return rows


def measure_attribution(site: str, platform_bags: Sequence[Path | str], customer_bags: Sequence[Path | str],
                        work_dir: Path | str, econ: EconomicsConfig, budget: PairBudget = PairBudget(),
                        executor: Executor | None = None, policy_input: PolicyInput | None = None,
                        log: Callable[[str], None] = lambda _: None) -> Attribution:
    """The counterfactual pair from recorded bags, evaluated at the customer's `site`, summarised and priced."""
    seeds, _ = measure_pair({"customer": (site, customer_bags)}, platform_bags, work_dir, econ, budget, executor,
                            policy_input, log=log)
    return summarize(site, seeds["customer"], econ)


# ---- the novelty of one data set against another (the online estimator's feature) ----

def bag_folders_transitions(folders: list, econ: object, policy_input: PolicyInput) -> np.ndarray:
    """All observations the closed bags under `folders` hold (for the novelty of one data set against another)."""
    from v2p.bags import find_bags
    from v2p.learning import transitions_from_bag

    chunks = [transitions_from_bag(bag, econ, policy_input).obs for folder in folders
              for bag in find_bags(folder, complete_only=True)]
    chunks = [c for c in chunks if len(c)]
    if not chunks:
        raise V2PError(f"no transitions on {policy_input.topics} in the bags under {', '.join(map(str, folders))}")
    return np.concatenate(chunks)


def data_novelty(reference: np.ndarray, data: np.ndarray, seed: int = 0) -> float:
    """Mean kNN novelty of `data` against `reference` (the SAC's novelty signal): the estimator's feature."""
    from v2p.rl import NoveltyEstimator

    estimator = NoveltyEstimator(reference.shape[1], seed=seed)
    estimator.observe(reference)
    return float(np.mean(estimator.score(data)))
