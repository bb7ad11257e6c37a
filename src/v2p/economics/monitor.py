"""Per-episode and rolling economics from the simulator's events: what econ_monitor_node and `v2p top` report."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass

from v2p.config import EconomicsConfig
from v2p.economics.labor import error_rate, implied_wage, marginal_product, profit_per_hour, wage_parity
from v2p.economics.sla import DualAscent
from v2p.economics.spread import spread_allocation
from v2p.task.dishwashing import EVENTS
from v2p.task.events import EventVocabulary, SimEvent


@dataclass(frozen=True)
class EpisodeEconomics:
    """One shift's figures. Money fields are $ (rebate and captured come from integer cents)."""

    episode: int
    hours: float
    units: int
    attempts: int
    errors: int
    mp: float
    err_rate: float
    implied_wage: float
    wage_parity: float
    profit: float
    spread: float
    spread_value: float
    s_cust: float
    rebate: float
    captured_spread: float
    lam: float  # λ after this episode's dual ascent step
    error_target: float  # e* this episode was held to

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def episode_economics(
    episode: int, units: int, errors: int, hours: float, s_cust: float, dual: DualAscent, cfg: EconomicsConfig
) -> EpisodeEconomics:
    """Price one shift and take the dual ascent step on λ."""
    attempts = units + errors
    mp = marginal_product(units, hours)
    err = error_rate(errors, attempts)
    wage = implied_wage(mp, err, cfg)
    target = dual.target
    lam = dual.update(err)
    alloc = spread_allocation(wage, hours, s_cust, cfg)
    return EpisodeEconomics(
        episode=episode, hours=hours, units=units, attempts=attempts, errors=errors, mp=mp, err_rate=err,
        implied_wage=wage, wage_parity=wage_parity(wage, cfg), profit=profit_per_hour(wage, cfg),
        spread=alloc.spread_per_hour, spread_value=alloc.spread_value, s_cust=s_cust, rebate=alloc.rebate,
        captured_spread=alloc.captured_spread, lam=lam, error_target=target,
    )


class EconomicsMonitor:
    """Folds /sim/events into episodes; keeps the running shift and a rolling window of finished ones."""

    def __init__(self, cfg: EconomicsConfig, s_cust: float = 0.0, window: int = 10,
                 vocabulary: EventVocabulary = EVENTS) -> None:
        self.cfg = cfg
        self.vocabulary = vocabulary  # the task's error kinds
        self.s_cust = s_cust
        self.dual = DualAscent(cfg.sla)
        self.history: deque[EpisodeEconomics] = deque(maxlen=window)
        self.episode: int | None = None
        self.units = 0
        self.errors_by_kind = dict.fromkeys(vocabulary.error_kinds, 0)
        self.last_time_s = 0.0
        self.start_time_s = 0.0

    @property
    def errors(self) -> int:
        return sum(self.errors_by_kind.values())

    def on_event(self, event: SimEvent) -> EpisodeEconomics | None:
        """Count one event; returns the episode's economics when the event closes an episode."""
        if event.kind == "episode_start" or (self.episode is not None and event.episode != self.episode):
            self._start(event)
        if self.episode is None:
            self._start(event)
        self.last_time_s = event.sim_time_s
        if event.kind == "unit":
            self.units += 1
        elif event.is_error:
            self.errors_by_kind[event.kind] += 1
        elif event.kind == "episode_end":
            hours = event.episode_hours or (event.sim_time_s - self.start_time_s) / 3600.0
            if hours <= 0:
                return None
            result = episode_economics(event.episode, self.units, self.errors, hours, self.s_cust, self.dual,
                                       self.cfg)
            self.history.append(result)
            self.episode = None
            return result
        return None

    def _start(self, event: SimEvent) -> None:
        self.episode = event.episode
        self.units = 0
        self.errors_by_kind = dict.fromkeys(self.vocabulary.error_kinds, 0)
        self.start_time_s = event.sim_time_s

    def running(self) -> dict[str, float] | None:
        """Figures of the shift in progress (None before any simulated time has passed)."""
        hours = (self.last_time_s - self.start_time_s) / 3600.0
        if self.episode is None or hours <= 0:
            return None
        attempts = self.units + self.errors
        mp = self.units / hours
        err = self.errors / attempts if attempts else 0.0
        wage = implied_wage(mp, err, self.cfg)
        return {"mp": mp, "err_rate": err, "implied_wage": wage, "wage_parity": wage_parity(wage, self.cfg)}

    def rolling(self) -> dict[str, float] | None:
        """Hours-weighted figures over the finished episodes in the window."""
        if not self.history:
            return None
        hours = sum(e.hours for e in self.history)
        units = sum(e.units for e in self.history)
        attempts = sum(e.attempts for e in self.history)
        errors = sum(e.errors for e in self.history)
        mp = units / hours
        err = errors / attempts if attempts else 0.0
        wage = implied_wage(mp, err, self.cfg)
        return {"mp": mp, "err_rate": err, "implied_wage": wage, "wage_parity": wage_parity(wage, self.cfg),
                "spread": wage - self.cfg.human_wage, "episodes": float(len(self.history)), "hours": hours}


def summary_error_target(statuses: list) -> float | None:
    """The e* an /econ/summary (diagnostic_msgs/DiagnosticArray `status` list) reports, if it holds a valid one."""
    for status in statuses:
        for kv in status.values:
            if kv.key != "error_target":
                continue
            try:
                target = float(kv.value)
            except ValueError:
                continue
            if math.isfinite(target) and 0.0 < target < 1.0:
                return target
    return None
