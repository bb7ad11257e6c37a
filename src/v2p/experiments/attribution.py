"""Measured data valuation: the counterfactual pair behind s_cust.

For each seed the same learner, budget and seed train two policies: one on the platform's data alone and one on
the platform's plus the customer's data (from bags: both fine-tune the same platform policy, see
`PairTrainer`). Both, and the untrained policy the robot starts from, are evaluated on the
customer's site over the same evaluation shifts (common random numbers, so the differences are paired):

    ΔMPL_cust  = MP(with customer data) − MP(without)          the gain the customer's data caused
    ΔMPL_total = MP(with customer data) − MP(untrained)        the whole gain learning brought to that site
    s_cust     = mean ΔMPL_cust / mean ΔMPL_total, clipped to [0, 1]

The confidence interval is Student's t over the seeds' paired ΔMPL_cust, divided by the mean total gain.
`v2p.experiments.honesty` holds the pair to two checks: data from another dish mix is credited, more of the
platform's own data is not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import mean, stdev

import numpy as np

from v2p.economics.spread import attribution_shares
from v2p.errors import V2PError
from v2p.task.dishwashing import POLICY_INPUTS
from v2p.task.observation import PolicyInput

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
    s_cust_ci: tuple[float, float] | None  # None when there was no total gain to share
    delta_mpl_cust_ci: tuple[float, float]

    def as_dict(self) -> dict[str, object]:
        return {
            "site": self.site, "delta_mpl_cust": self.delta_mpl_cust, "delta_mpl_total": self.delta_mpl_total,
            "s_cust": self.s_cust, "s_cust_ci": None if self.s_cust_ci is None else list(self.s_cust_ci), "delta_mpl_cust_ci": list(self.delta_mpl_cust_ci),
            "seeds": [asdict(s) | {"delta_mpl_cust": s.delta_mpl_cust, "delta_mpl_total": s.delta_mpl_total}
                      for s in self.seeds],
        }


def report_lines(a: Attribution) -> list[str]:
    """The printed report of a pair: a row per seed, then ΔMPL_cust and ΔMPL_total, then s_cust."""
    rows = [f"{'seed':>5}{'MP untrained':>14}{'MP without':>12}{'MP with':>10}{'ΔMPL_cust':>11}{'ΔMPL_total':>12}"]
    rows += [f"{s.seed:>5}{s.mp_untrained:>14.1f}{s.mp_without:>12.1f}{s.mp_with:>10.1f}{s.delta_mpl_cust:>11.1f}"
             f"{s.delta_mpl_total:>12.1f}" for s in a.seeds]
    low, high = a.delta_mpl_cust_ci
    rows.append(f"ΔMPL_cust {a.delta_mpl_cust:.1f} units/h (95% CI {low:.1f} .. {high:.1f}); "
                f"ΔMPL_total {a.delta_mpl_total:.1f} units/h")
    rows.append(f"s_cust {a.s_cust:.1%} " + ("(no total gain: nothing to share)" if a.s_cust_ci is None
                                              else f"(95% CI {a.s_cust_ci[0]:.1%} .. {a.s_cust_ci[1]:.1%})"))
    return rows


def summarize(site: str, seeds: list[SeedMeasurement]) -> Attribution:
    cust = [s.delta_mpl_cust for s in seeds]
    total = [s.delta_mpl_total for s in seeds]
    d_cust, d_total = mean(cust), mean(total)
    half = t_quantile_95(len(seeds) - 1) * stdev(cust) / math.sqrt(len(seeds))
    s_cust, _ = attribution_shares(d_cust, d_total)
    ci = ((d_cust - half) / d_total, (d_cust + half) / d_total) if d_total > 0 else None
    return Attribution(site, seeds, d_cust, d_total, s_cust, ci, (d_cust - half, d_cust + half))


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


# ---- the real pair: SAC trained from recorded bags, evaluated in the simulator ----

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


def evaluate_mp(policy: object | None, site: str, episodes: int, seed: int, obs_dim: int | None = None) -> float:
    """MP (clean units per simulated hour) of a deterministic policy over `episodes` shifts seeded seed…seed+n−1.

    `policy` is a SAC model, or None for the untrained policy the robot starts from (a fresh SAC from `seed`).
    """
    import gymnasium as gym

    import v2p_sim  # noqa: F401  (registers the env)
    from v2p.rl import SAC, SACConfig

    env = gym.make("V2PDishwashing-v0", site=site)
    try:
        if policy is None:
            policy = SAC(None, config=SACConfig(seed=seed, threads=1, buffer_size=1),
                         observation_space=env.observation_space, action_space=env.action_space)
        units, hours = 0, 0.0
        for i in range(episodes):
            obs, info = env.reset(seed=10_000 + seed * 100 + i)
            done = False
            while not done:
                action, _ = policy.predict(obs, deterministic=True)
                obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
            units += int(info["units"])
            hours += float(info["sim_time_s"]) / 3600.0
        return units / hours
    finally:
        env.close()


class PairTrainer:
    """The training side of the pair, as the product learns: per seed the platform's policy (`steps` SAC updates on
    the platform's bags, state observations from /sim/state so that no encoder choice enters the measurement), then
    fine-tunings of that same policy by `steps` more updates on a given set of bags. Starting every arm from the
    same weights keeps the pair's difference about the data, not about two independent trainings drifting apart.
    Each fit is made once per trainer (never taken from a folder another run left) and reused when asked again."""

    def __init__(self, platform_bags: list, steps: int, work_dir: Path | str, econ: object) -> None:
        self.platform_bags = [str(b) for b in platform_bags]
        self.steps = int(steps)
        self.work = Path(work_dir)
        self.econ = econ
        self._platform: dict[int, Path] = {}  # seed -> folder of the platform policy's versions
        self._arms: dict[tuple[tuple[str, ...], int], object] = {}  # (bags, seed) -> fine-tuned SAC

    def _fit(self, bags: list[str], out: Path, seed: int, resume: bool) -> str:
        from dataclasses import replace

        from v2p.learning import learn
        from v2p.task.dishwashing import DISHWASHING

        sac = replace(DISHWASHING.sac, seed=seed, threads=1)
        report = learn(bags, out, self.steps, self.econ, sac_config=sac,
                       policy_input=POLICY_INPUTS["oracle_state"], resume=resume)
        return str(report.checkpoint)

    def __call__(self, bags: list, seed: int) -> object:
        """The platform's policy for `seed`, fine-tuned on `bags` (the platform's alone: the "without" arm)."""
        import shutil

        from v2p.learning import CheckpointVersions
        from v2p.rl import SAC

        key = (tuple(str(b) for b in bags), seed)
        if key in self._arms:
            return self._arms[key]
        if seed not in self._platform:
            base = self.work / f"seed{seed}_platform"
            shutil.rmtree(base, ignore_errors=True)
            self._fit(self.platform_bags, base, seed, resume=False)
            self._platform[seed] = base
        others = sum(1 for bags_, seed_ in self._arms if seed_ == seed and list(bags_) != self.platform_bags)
        name = "without" if list(key[0]) == self.platform_bags else "with" + (str(others + 1) if others else "")
        arm = self.work / f"seed{seed}_{name}"
        shutil.rmtree(arm, ignore_errors=True)
        arm.mkdir(parents=True)
        CheckpointVersions(self._platform[seed]).copy_latest_to(arm)
        self._arms[key] = SAC.load(self._fit(list(key[0]), arm, seed, resume=True), threads=1)
        return self._arms[key]


def measure_attribution(
    site: str, platform_bags: list, customer_bags: list, seeds: list[int], steps: int, eval_episodes: int,
    work_dir: object, econ: object,
) -> Attribution:
    """The counterfactual pair from recorded bags (`PairTrainer`), evaluated on `site` over `eval_episodes`
    shifts per policy and seed."""
    train = PairTrainer(platform_bags, steps, work_dir, econ)

    def evaluate(policy: object | None, seed: int) -> float:
        return evaluate_mp(policy, site, eval_episodes, seed)

    return counterfactual_attribution(site, platform_bags, customer_bags, seeds, train, evaluate)
