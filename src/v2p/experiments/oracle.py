"""The oracle yardstick: the best SLA-feasible operating point per visible dish type at a site.

A robot's camera tells plates, bowls and glasses apart, so the best policy a fixed per-type rule can be is a
(speed, care) per dish type. The oracle finds it by sweeping each dish type on its own pool of dishes drawn from
the site's ranges (common random numbers: every point of a type works the same dishes in the same order):

1. coarse: a lattice of (speed, care) on `coarse_dishes` dishes per point;
2. refine: ±`refine_step` around the `refine_top` best points of each type, on `refine_dishes` dishes;
3. fine: ±`fine_step` (≤ 0.05) along each axis around the best refined point and around the best refined point
   that meets e* on its own, and the `fine_top` best refined points again, on `fine_dishes` (≥ 100) dishes per
   point, so the SLA is judged on 100 dishes of every type; when no combination of them meets e*, the next points
   that met it on fewer dishes are judged too, best first.

Points are ranked by their value per dish less the time they take at the going rate ρ (Dinkelbach's
criterion, with ρ the best combined wage found so far); the final table is the exact best combination of the
fine points under the site's dish mix: the highest implied wage whose mixed error rate meets e*.
`evaluate_shifts` then runs any per-state policy (the oracle's, a fixed action, the deployed policy's replay) on
given shift seeds exactly as sim_node runs them, so the yardstick is measured on the same shifts as the policy.
Results are cached per (site, economics config, budget).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from v2p.config import EconomicsConfig
from v2p.economics.labor import implied_wage
from v2p.errors import V2PError
from v2p.experiments.executor import Executor, LocalExecutor
from v2p.task.dishwashing import DISH_TYPES, STATE

ORACLE_VERSION = 1  # bump when the search changes what it finds, so caches are not reused across versions
POOL_SEED = 7_000  # the seed of every type's dish pool (independent of the shifts a policy is judged on)
_TYPE_FIELDS = [STATE.index(f"dish_is_{kind}") for kind in DISH_TYPES]


@dataclass(frozen=True)
class OracleBudget:
    """How hard the sweep looks. The defaults judge every final point on 100 dishes of its type."""

    coarse_speeds: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)
    coarse_cares: tuple[float, ...] = (0.4, 0.6, 0.8, 1.0)
    coarse_dishes: int = 12
    refine_top: int = 2
    refine_step: float = 0.1
    refine_dishes: int = 30
    fine_top: int = 2
    fine_step: float = 0.05
    fine_dishes: int = 100

    def __post_init__(self) -> None:
        if not 0 < self.fine_step <= self.refine_step:
            raise V2PError(f"oracle budget: fine_step must lie in (0, refine_step], got {self.fine_step}")
        if min(self.coarse_dishes, self.refine_dishes, self.fine_dishes) < 1 or self.refine_top < 1:
            raise V2PError("oracle budget: dish counts and refine_top must be at least 1")

    def scaled(self, factor: float) -> OracleBudget:
        """Dish counts × factor (a shrunken demo or a test); the lattice and steps stay."""
        def n(x: int) -> int:
            return max(2, round(x * factor))

        return replace(self, coarse_dishes=n(self.coarse_dishes), refine_dishes=n(self.refine_dishes),
                       fine_dishes=n(self.fine_dishes))


@dataclass(frozen=True)
class PointStats:
    """One (speed, care) worked on the first `dishes` dishes of one type's pool."""

    kind: str
    speed: float
    care: float
    dishes: int
    units: int
    errors: int
    seconds: float

    @property
    def err_rate(self) -> float:
        return self.errors / self.dishes

    def value_per_dish(self, cfg: EconomicsConfig) -> float:
        return (cfg.unit_price * self.units - cfg.error_cost * self.errors) / self.dishes

    def hours_per_dish(self) -> float:
        return self.seconds / 3600.0 / self.dishes


@dataclass(frozen=True)
class Oracle:
    site: str
    table: dict[str, tuple[float, float]]  # dish type -> (speed, care)
    mix: dict[str, float]  # the site's dish mix, normalised
    predicted_mp: float  # on the pools, under the mix
    predicted_err: float
    predicted_wage: float
    dishes_per_point: int
    points: list[PointStats] = field(default_factory=list)  # every point measured
    key: str = ""

    def act(self, state: np.ndarray) -> tuple[float, float]:
        """The oracle's action for a state of the workcell (it reads only the visible dish type)."""
        kind = DISH_TYPES[int(np.argmax(np.asarray(state)[_TYPE_FIELDS]))]
        return self.table[kind]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"table": {k: list(v) for k, v in self.table.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Oracle:
        try:
            return cls(str(data["site"]), {k: (float(v[0]), float(v[1])) for k, v in data["table"].items()},
                       {k: float(v) for k, v in data["mix"].items()}, float(data["predicted_mp"]),
                       float(data["predicted_err"]), float(data["predicted_wage"]), int(data["dishes_per_point"]),
                       [PointStats(**p) for p in data["points"]], str(data.get("key", "")))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise V2PError(f"not a saved oracle: {exc}") from None


# ---------------------------------------------------------------------------- measuring points
_CELLS: dict[tuple[str, str], Any] = {}  # (site, kind) -> Workcell, one per worker process


def _type_site(site: Any, kind: str) -> Any:
    from v2p_sim.site import DishMix

    return replace(site, mix=DishMix(**{k: float(k == kind) for k in DISH_TYPES}), name=f"{site.name}:{kind}")


def _measure(job: tuple[Any, str, float, float, int]) -> PointStats:
    """Work the first `dishes` dishes of a type's pool at one action (runs in a worker process)."""
    from v2p_sim import Workcell

    site, kind, speed, care, dishes = job
    key = (repr(site), kind)
    if key not in _CELLS:
        _CELLS[key] = Workcell(_type_site(site, kind), POOL_SEED)
    wc = _CELLS[key]
    wc.shift_hours = 1e3  # a pool is not a shift: work exactly `dishes` dishes
    wc.reset(POOL_SEED)
    for _ in range(dishes):
        wc.run_cycle(speed, care)
    return PointStats(kind, speed, care, dishes, wc.units, wc.errors, wc.sim_time_s)


def _lattice(center: tuple[float, float], step: float, full: bool = True) -> list[tuple[float, float]]:
    """The 3×3 neighbourhood of `center` at `step` (or, not `full`, the centre and its four axis neighbours),
    inside [0, 1]², rounded so equal points compare equal."""
    out = []
    for ds, dc in itertools.product((-step, 0.0, step), repeat=2):
        if not full and ds and dc:
            continue
        s, c = round(center[0] + ds, 4), round(center[1] + dc, 4)
        if 0.0 <= s <= 1.0 and 0.0 <= c <= 1.0:
            out.append((s, c))
    return out


# ---------------------------------------------------------------------------- combining types
def best_combination(candidates: dict[str, list[PointStats]], mix: dict[str, float], cfg: EconomicsConfig
                     ) -> tuple[dict[str, PointStats], float, float, float] | None:
    """The SLA-feasible choice of one point per type with the highest implied wage under `mix`, exactly (every
    combination is scored): (choice, wage, MP, error rate), or None when no combination meets e*."""
    kinds = [k for k in DISH_TYPES if mix.get(k, 0.0) > 0]
    if any(not candidates.get(k) for k in kinds):
        return None
    value = [np.array([p.value_per_dish(cfg) for p in candidates[k]]) for k in kinds]
    hours = [np.array([p.hours_per_dish() for p in candidates[k]]) for k in kinds]
    units = [np.array([p.units / p.dishes for p in candidates[k]]) for k in kinds]
    err = [np.array([p.err_rate for p in candidates[k]]) for k in kinds]
    m = [mix[k] for k in kinds]

    def mixed(parts: list[np.ndarray]) -> np.ndarray:  # Σ_t m_t x_t over the grid of every combination
        total = np.zeros([len(p) for p in parts])
        for axis, (w, x) in enumerate(zip(m, parts)):
            shape = [1] * len(parts)
            shape[axis] = len(x)
            total = total + w * x.reshape(shape)
        return total

    h = mixed(hours)
    mp = mixed(units) / h
    e = mixed(err)
    wage = implied_wage(mp, errors_per_hour=mixed(err) / h, cfg=cfg)
    wage = np.where(e <= cfg.sla.error_target + 1e-12, wage, -np.inf)
    if not np.isfinite(wage).any():
        return None
    idx = np.unravel_index(int(np.argmax(wage)), wage.shape)
    choice = {k: candidates[k][i] for k, i in zip(kinds, idx)}
    return choice, float(wage[idx]), float(mp[idx]), float(e[idx])


def _ranked(points: list[PointStats], rho: float, cfg: EconomicsConfig) -> list[PointStats]:
    """Best first by value per dish less its time at the going rate ρ."""
    return sorted(points, key=lambda p: p.value_per_dish(cfg) - rho * p.hours_per_dish(), reverse=True)


# ---------------------------------------------------------------------------- the sweep
def find_oracle(site: Any, cfg: EconomicsConfig, budget: OracleBudget = OracleBudget(),
                executor: Executor | None = None, extra_actions: Sequence[tuple[float, float]] = (),
                log: Callable[[str], None] = lambda _: None) -> Oracle:
    """Sweep every dish type of `site` (see the module docstring). `extra_actions` are measured at the fine dish
    count for every type too (e.g. fixed actions the oracle must be compared with)."""
    from v2p_sim import load_site

    site = load_site(site)
    executor = executor or LocalExecutor(1)
    total = sum(getattr(site.mix, k) for k in DISH_TYPES)
    mix = {k: getattr(site.mix, k) / total for k in DISH_TYPES}
    kinds = [k for k in DISH_TYPES if mix[k] > 0]
    measured: dict[tuple[str, float, float, int], PointStats] = {}

    def measure(wanted: list[tuple[str, float, float, int]]) -> None:
        todo = sorted({w for w in wanted if w not in measured})
        for stats in executor.map(_measure, [(site, k, s, c, n) for k, s, c, n in todo]):
            measured[(stats.kind, stats.speed, stats.care, stats.dishes)] = stats

    def at(dishes: int) -> dict[str, list[PointStats]]:
        return {k: [p for key, p in measured.items() if key[0] == k and key[3] == dishes] for k in kinds}

    def going_rate(dishes: int) -> float:
        best = best_combination(at(dishes), mix, cfg)
        return max(best[1], 0.0) if best else cfg.human_wage

    coarse = [(round(s, 4), round(c, 4)) for s in budget.coarse_speeds for c in budget.coarse_cares]
    measure([(k, s, c, budget.coarse_dishes) for k in kinds for s, c in coarse])
    rho = going_rate(budget.coarse_dishes)
    log(f"oracle {site.name}: coarse {len(coarse)} points per type, going rate ${rho:.2f}/h")
    refine = []
    for k in kinds:
        for p in _ranked(at(budget.coarse_dishes)[k], rho, cfg)[:budget.refine_top]:
            refine += [(k, s, c, budget.refine_dishes) for s, c in _lattice((p.speed, p.care), budget.refine_step)]
    measure(refine)
    rho = max(rho, going_rate(budget.refine_dishes))
    fine = [(k, s, c, budget.fine_dishes) for k in kinds for s, c in extra_actions]
    for k in kinds:
        ranked = _ranked(at(budget.refine_dishes)[k], rho, cfg)
        # around the best by value and time, and around the best that meets e* on its own (so that some choice of
        # the final points meets the SLA however the faster ones turn out on more dishes)
        feasible = [p for p in ranked if p.err_rate <= cfg.sla.error_target]
        for p in [ranked[0], *feasible[:1]]:
            fine += [(k, s, c, budget.fine_dishes) for s, c in _lattice((p.speed, p.care), budget.fine_step,
                                                                          full=False)]
        fine += [(k, p.speed, p.care, budget.fine_dishes) for p in ranked[1:budget.fine_top]]
    measure(fine)
    best = best_combination(at(budget.fine_dishes), mix, cfg)
    # no combination of the fine points meets e* (they all sat by an error cliff that more dishes revealed): judge
    # the next points that met it on fewer dishes, best first, until one does or none is left
    backups = {k: [p for p in _ranked(at(budget.refine_dishes)[k] + at(budget.coarse_dishes)[k], rho, cfg)
                   if p.err_rate <= cfg.sla.error_target] for k in kinds}
    while best is None and any(backups.values()):
        measure([(k, p.speed, p.care, budget.fine_dishes) for k in kinds for p in backups[k][:2]])
        backups = {k: v[2:] for k, v in backups.items()}
        best = best_combination(at(budget.fine_dishes), mix, cfg)
    if best is None:
        raise V2PError(f"no SLA-feasible per-type operating point at {site.name} (e* {cfg.sla.error_target:.1%})")
    choice, wage, mp, err = best
    log(f"oracle {site.name}: {', '.join(f'{k} ({p.speed:.2f}, {p.care:.2f})' for k, p in choice.items())}: "
        f"${wage:.2f}/h on the pools, {len(measured)} points")
    present = choice[kinds[0]]  # a type the site never sends gets any present type's point (it is never used)
    table = {k: (float(choice.get(k, present).speed), float(choice.get(k, present).care)) for k in DISH_TYPES}
    return Oracle(site.name, table, mix, mp, err, wage, budget.fine_dishes, sorted(measured.values(),
                  key=lambda p: (p.kind, p.dishes, p.speed, p.care)), oracle_key(site, cfg, budget))


def oracle_key(site: Any, cfg: EconomicsConfig, budget: OracleBudget) -> str:
    """What the oracle depends on: the site's dishes, the economics and the sweep."""
    text = json.dumps([ORACLE_VERSION, repr(site), repr(cfg), repr(budget), POOL_SEED])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_oracle(site: Any, cfg: EconomicsConfig, cache_dir: Path, budget: OracleBudget = OracleBudget(),
                  executor: Executor | None = None, log: Callable[[str], None] = lambda _: None) -> Oracle:
    """The oracle of `site` from `cache_dir` when one was found for the same site, economics and budget, else
    found now and saved there (atomically)."""
    from v2p_sim import load_site

    site = load_site(site)
    key = oracle_key(site, cfg, budget)
    path = Path(cache_dir) / f"oracle-{site.name}-{key}.json"
    if path.is_file():
        try:
            oracle = Oracle.from_dict(json.loads(path.read_text()))
            if oracle.key == key:
                log(f"oracle {site.name}: cached in {path}")
                return oracle
        except (ValueError, V2PError) as exc:
            log(f"oracle cache {path} unreadable ({exc}): sweeping again")
    oracle = find_oracle(site, cfg, budget, executor, log=log)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(oracle.as_dict(), indent=1))
    tmp.replace(path)
    return oracle


# ---------------------------------------------------------------------------- judging on shifts
@dataclass(frozen=True)
class ShiftOutcome:
    seed: int
    units: int
    errors: int
    hours: float


Policy = Callable[[np.ndarray], Sequence[float]]  # workcell state -> action


def _shift(job: tuple[Any, Policy, int, float | None]) -> ShiftOutcome:
    from v2p_sim import Workcell

    site, policy, seed, shift_hours = job
    key = (repr(site), "shift")
    if key not in _CELLS:
        _CELLS[key] = Workcell(site, seed)
    wc = _CELLS[key]
    wc.shift_hours = shift_hours if shift_hours is not None else wc.site.shift_hours
    wc.reset(seed)
    while not wc.shift_done:
        wc.run_cycle(*(float(a) for a in policy(wc.state_vector())))
    return ShiftOutcome(seed, wc.units, wc.errors, wc.sim_time_s / 3600.0)


def evaluate_shifts(site: Any, policy: Policy, seeds: Sequence[int], shift_hours: float | None = None,
                    executor: Executor | None = None) -> list[ShiftOutcome]:
    """`policy` on the shifts `seeds` exactly as sim_node runs them (reset(seed), cycles until the shift ends)."""
    from v2p_sim import load_site

    site = load_site(site)
    return (executor or LocalExecutor(1)).map(_shift, [(site, policy, int(s), shift_hours) for s in seeds])


def pooled_wage(outcomes: Sequence[ShiftOutcome], cfg: EconomicsConfig) -> float:
    """ŵ of a set of shifts: their units, errors and hours summed (never an average of shift wages)."""
    hours = sum(o.hours for o in outcomes)
    return implied_wage(sum(o.units for o in outcomes) / hours,
                        errors_per_hour=sum(o.errors for o in outcomes) / hours, cfg=cfg)


def optimality(policy: Sequence[ShiftOutcome], oracle: Sequence[ShiftOutcome], cfg: EconomicsConfig
               ) -> tuple[float, tuple[float, float]]:
    """Policy ŵ / oracle ŵ over the same shifts, with its paired 95% bootstrap interval over those shifts."""
    from v2p.experiments.stats import paired_bootstrap

    if [o.seed for o in policy] != [o.seed for o in oracle]:
        raise V2PError("the policy and the oracle must be judged on the same shifts, in the same order")
    ratio = pooled_wage(policy, cfg) / pooled_wage(oracle, cfg)

    def resampled(idx: np.ndarray) -> float:
        den = pooled_wage([oracle[i] for i in idx], cfg)
        return pooled_wage([policy[i] for i in idx], cfg) / den if den > 0 else math.nan

    return ratio, paired_bootstrap(resampled, len(policy))
