"""The counterfactual pair behind a measured s_cust: its fits and evaluations, seeds × arms, through one executor.

Per seed k (every arm of a seed shares its seed, so its minibatch and policy-noise streams, and its shifts):

- **platform**: the pair's SAC (`PAIR_SAC`) fitted from scratch on the platform's bags (`platform_updates`);
- **without**: that platform policy fine-tuned by `finetune_updates` more updates on the platform's bags alone;
- **with**: the same platform policy fine-tuned by the same `finetune_updates` on the platform's and the
  customer's bags. Equal compute: the arms get the same number of updates whatever their data size (duplicated
  data adds nothing: the buffer is sampled uniformly, so twice the same transitions is the same distribution);
- **reference**: the robot's commissioning default, the safe action `ACTION.safe` (slow, as careful as it gets:
  what the robot does before any learning and whenever it has no valid action). It is the natural "before
  learning" point of ΔMPL_total (the whole gain learning brought to the site), deterministic (it depends on no
  random init, unlike an untrained network whose MP ranged 47–112 units/h across seeds), and costs nothing to
  explain to a customer.

Both arms and the reference are evaluated on the same `eval_shifts` shifts of the customer's site (common random
numbers: the same dishes in the same order, so the arms' difference is paired), drawn per seed from
`EVAL_SHIFT_SEED` on, apart from any recorded data set; `v2p.experiments.oracle.evaluate_shifts` runs them exactly
as sim_node does. Different seeds get different shifts, so each seed is an independent replicate of training and
evaluation and an interval over seeds covers both noises. Both arms price the stored reward parts with the same
weights (`platform_weights`: the going rate, λ and e* at the end of the platform's recording).

The jobs are module-level functions of picklable dataclasses: `LocalExecutor` (spawned processes) or
`RayExecutor` runs them, two rounds (the platform fits, then every arm's fine-tuning and evaluation and every
reference evaluation).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from v2p.config import EconomicsConfig
from v2p.errors import V2PError
from v2p.experiments.executor import Executor, LocalExecutor
from v2p.rl.config import SACConfig
from v2p.task.dishwashing import ACTION, DISHWASHING, POLICY_INPUTS
from v2p.task.observation import PolicyInput

# What the pair's policies act on: what a robot can observe, never the simulator's privileged state.
PAIR_INPUT_NAME = "observable_state"
# The pair's learner: the dishwashing preset (γ = 0, a 5-critic mean ensemble) on (64, 64) networks with a step of
# 1e-3: a fit of a few hundred transitions settles in under a thousand updates at a fifth of the (256, 256) preset's
# cost per update, as steady between seeds (benchmarks/attribution_spread.py measures it against the preset and the
# γ 0.99 / min-of-2 setting).
PAIR_SAC = replace(DISHWASHING.sac, net_arch=(64, 64), learning_rate=1e-3, threads=1)
EVAL_SHIFT_SEED = 900_000  # shift seeds of evaluation: seed k uses EVAL_SHIFT_SEED + 1000 k + i
ARMS = ("without", "with")


@dataclass(frozen=True)
class PairBudget:
    """How hard the pair measures. The defaults fit the demo's attribution phase (see README, "How far to trust
    it")."""

    seeds: int = 10
    platform_updates: int = 600  # SAC updates of each seed's platform policy
    finetune_updates: int = 300  # SAC updates of each arm's fine-tuning (the same in both arms)
    eval_shifts: int = 3  # evaluation shifts per seed (every arm and the reference work the same ones)
    first_seed: int = 0

    def __post_init__(self) -> None:
        if self.seeds < 2:
            raise V2PError(f"the pair needs at least two seeds for its interval, got {self.seeds}")
        if min(self.platform_updates, self.finetune_updates, self.eval_shifts) < 1:
            raise V2PError("the pair's updates and evaluation shifts must be at least 1")

    @property
    def seed_list(self) -> list[int]:
        return list(range(self.first_seed, self.first_seed + self.seeds))


@dataclass(frozen=True)
class SeedMeasurement:
    """One seed of the pair: MP (clean units per hour) of the reference and both arms over the seed's shifts."""

    seed: int
    mp_reference: float
    mp_without: float
    mp_with: float
    shift_mp: tuple[tuple[float, float, float], ...] = ()  # per shift: (reference, without, with)

    @property
    def delta_mpl_cust(self) -> float:
        return self.mp_with - self.mp_without

    @property
    def delta_mpl_total(self) -> float:
        return self.mp_with - self.mp_reference


# ---------------------------------------------------------------------------- policies the shifts run
class FixedAction:
    """A policy that always takes one (speed, care): the reference's commissioning default."""

    def __init__(self, action: Sequence[float]) -> None:
        self.action = tuple(float(a) for a in ACTION.parse(action))

    def __call__(self, state: np.ndarray) -> tuple[float, ...]:
        return self.action


class ActorPolicy:
    """A fitted SAC actor as a workcell-state → action policy (its mean action), reading the state through a
    PolicyInput. Picklable: it carries the actor's weights and builds the network in the process that calls it."""

    def __init__(self, checkpoint: Path | str, policy_input: PolicyInput) -> None:
        if policy_input.robot_state is not None:
            raise V2PError(f"the pair evaluates policies from the workcell state alone; {policy_input} also reads "
                           f"{policy_input.robot_state}")
        from v2p.rl import load_actor

        actor, meta = load_actor(checkpoint)
        self.state = actor.state_dict()
        self.net_arch = tuple(meta["config"]["net_arch"])
        self.obs_dim = int(actor.trunk[0].in_features) if len(actor.trunk) else int(actor.head.in_features)
        self.policy_input = policy_input
        self._actor = actor

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_actor"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._actor = None

    def __call__(self, state: np.ndarray) -> tuple[float, ...]:
        import torch

        if self._actor is None:
            from v2p.rl.networks import Actor

            self._actor = Actor(self.obs_dim, ACTION.dim, self.net_arch, torch.as_tensor(ACTION.low_array),
                                torch.as_tensor(ACTION.high_array))
            self._actor.load_state_dict(self.state)
            self._actor.eval().requires_grad_(False)
        obs = self.policy_input.compose(np.asarray(state, dtype=np.float32), None)
        with torch.inference_mode():
            return tuple(float(a) for a in self._actor.act(torch.as_tensor(obs).reshape(1, -1))[0])


# ---------------------------------------------------------------------------- jobs
Outcomes = tuple[tuple[int, int, float], ...]  # per shift: (units, errors, hours)


@dataclass(frozen=True)
class FitJob:
    """Fit `updates` SAC updates on `bags` into `out` (resuming the checkpoint folder `start` when given), then
    evaluate the fitted policy at each site of `evaluate_at` on `shifts`."""

    arm: str
    seed: int
    bags: tuple[str, ...]
    updates: int
    out: str
    econ: EconomicsConfig
    sac: SACConfig
    policy_input: PolicyInput
    weights: tuple[float, ...]
    start: str | None = None
    evaluate_at: tuple[str, ...] = ()
    shifts: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReferenceJob:
    """The reference policy (`ACTION.safe`) at `site` on `shifts`."""

    seed: int
    site: str
    shifts: tuple[int, ...]

    @property
    def arm(self) -> str:
        return "reference"


@dataclass(frozen=True)
class JobResult:
    arm: str
    seed: int
    checkpoint: str | None  # the fit's folder (None: an evaluation only)
    updates: int  # the updates of this job's fit
    transitions: int  # in the fit's replay buffer
    outcomes: dict[str, Outcomes]  # site -> per-shift outcomes


def mp(outcomes: Outcomes) -> float:
    """Clean units per hour over shifts, pooled (never an average of shift MPs)."""
    return sum(o[0] for o in outcomes) / sum(o[2] for o in outcomes)


def _evaluate(site: str, policy: Callable[[np.ndarray], Sequence[float]], shifts: Sequence[int]) -> Outcomes:
    from v2p.experiments.oracle import evaluate_shifts

    return tuple((o.units, o.errors, o.hours) for o in evaluate_shifts(site, policy, shifts))


def run_job(job: FitJob | ReferenceJob) -> JobResult:
    """One job of the pair (runs in a worker process or a Ray task)."""
    if isinstance(job, ReferenceJob):
        return JobResult("reference", job.seed, None, 0, 0,
                         {job.site: _evaluate(job.site, FixedAction(ACTION.safe), job.shifts)})
    from v2p.learning import CheckpointVersions, learn

    out = Path(job.out)
    shutil.rmtree(out, ignore_errors=True)  # every fit is made here, never taken from a folder a run left
    out.mkdir(parents=True)
    if job.start is not None:
        CheckpointVersions(job.start).copy_latest_to(out)
    report = learn(list(job.bags), out, job.updates, job.econ, sac_config=replace(job.sac, seed=job.seed),
                   policy_input=job.policy_input, resume=job.start is not None, reward_weights=job.weights)
    policy = ActorPolicy(report.checkpoint, job.policy_input) if job.evaluate_at else None
    return JobResult(job.arm, job.seed, str(out), job.updates, report.transitions,
                     {site: _evaluate(site, policy, job.shifts) for site in job.evaluate_at})


# ---------------------------------------------------------------------------- the pair
def platform_weights(bags: Sequence[Path | str], econ: EconomicsConfig, policy_input: PolicyInput
                     ) -> tuple[float, ...]:
    """The weights that price both arms' rewards: the going rate, λ and e* after the platform's recording, its
    events replayed through the monitor's code (`TransitionStream.weights`)."""
    from v2p.bags import find_bags
    from v2p.learning import TransitionStream, bag_records

    stream = TransitionStream(econ, policy_input)
    found = [bag for folder in bags for bag in find_bags(folder, complete_only=True)]
    if not found:
        raise V2PError(f"no closed bags under {', '.join(map(str, bags))}")
    for bag in found:
        stream.feed_all(bag_records(bag, policy_input))
    return tuple(float(w) for w in stream.weights())


def eval_shift_seeds(seed: int, shifts: int) -> tuple[int, ...]:
    return tuple(EVAL_SHIFT_SEED + 1000 * seed + i for i in range(shifts))


Customers = dict[str, tuple[str, Sequence[Path | str]]]  # name -> (the site it is evaluated at, its bags)


def measure_pair(customers: Customers, platform_bags: Sequence[Path | str], work_dir: Path | str,
                 econ: EconomicsConfig, budget: PairBudget = PairBudget(), executor: Executor | None = None,
                 policy_input: PolicyInput | None = None, sac: SACConfig = PAIR_SAC,
                 log: Callable[[str], None] = lambda _: None) -> tuple[dict[str, list[SeedMeasurement]],
                                                                       list[JobResult]]:
    """The pair per seed (see the module docstring) for each customer; customers share the platform policy and
    its "without" arm (one fit, evaluated at every customer's site). Returns each customer's seeds in seed order,
    and every job's result."""
    if not customers:
        raise V2PError("the pair needs at least one customer data set")
    executor = executor or LocalExecutor(1)
    policy_input = policy_input or POLICY_INPUTS[PAIR_INPUT_NAME]
    work = Path(work_dir)
    platform = tuple(str(Path(b).resolve()) for b in platform_bags)
    weights = platform_weights(platform, econ, policy_input)
    common = dict(econ=econ, sac=sac, policy_input=policy_input, weights=weights)
    seeds = budget.seed_list
    sites = tuple(sorted({where for where, _ in customers.values()}))
    log(f"pair: {len(seeds)} seeds on {executor.name}; platform policy {budget.platform_updates} updates, each arm "
        f"{budget.finetune_updates} more; {budget.eval_shifts} evaluation shifts per seed at {', '.join(sites)}; "
        f"reward weights ({', '.join(f'{w:.4g}' for w in weights)})")
    base = executor.map(run_job, [FitJob("platform", s, platform, budget.platform_updates,
                                         str(work / f"seed{s}_platform"), **common) for s in seeds])
    jobs: list[FitJob | ReferenceJob] = []
    for s, fitted in zip(seeds, base):
        shifts = eval_shift_seeds(s, budget.eval_shifts)
        arm = dict(start=fitted.checkpoint, shifts=shifts, **common)
        jobs.append(FitJob("without", s, platform, budget.finetune_updates, str(work / f"seed{s}_without"),
                           evaluate_at=sites, **arm))
        for name, (where, bags) in customers.items():
            mine = platform + tuple(str(Path(b).resolve()) for b in bags)
            jobs.append(FitJob(f"with:{name}", s, mine, budget.finetune_updates, str(work / f"seed{s}_with_{name}"),
                               evaluate_at=(where,), **arm))
        jobs += [ReferenceJob(s, where, shifts) for where in sites]
    log(f"pair: {len(base)} platform policies fitted; {len(jobs)} fine-tunings and evaluations")
    done = executor.map(run_job, jobs)
    results = {(r.arm, r.seed, site): (r, o) for r in done for site, o in r.outcomes.items()}
    out: dict[str, list[SeedMeasurement]] = {}
    for name, (where, _) in customers.items():
        rows = []
        for s in seeds:
            (_, ref), (wo, without), (wi, with_) = (results[(arm, s, where)]
                                                    for arm in ("reference", "without", f"with:{name}"))
            if wo.updates != wi.updates:
                raise V2PError(f"seed {s}: the arms got {wo.updates} and {wi.updates} updates; the pair needs equal")
            per_shift = tuple((mp((a,)), mp((b,)), mp((c,))) for a, b, c in zip(ref, without, with_))
            rows.append(SeedMeasurement(s, mp(ref), mp(without), mp(with_), per_shift))
        out[name] = rows
    return out, [*base, *done]
