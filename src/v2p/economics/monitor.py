"""Per-episode and rolling economics from the simulator's events: what econ_monitor_node and `v2p top` report."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass

from v2p.config import EconomicsConfig
from v2p.economics.contract import EpisodeBooks, episode_books
from v2p.economics.labor import error_rate, implied_wage, marginal_product, profit_per_hour, wage_parity
from v2p.economics.money import cents_to_dollars
from v2p.economics.pricing import PLATFORM_SITE, PricedShare, price_share
from v2p.economics.sla import DualAscent
from v2p.task.dishwashing import EVENTS
from v2p.task.events import EventVocabulary, SimEvent


@dataclass(frozen=True)
class EpisodeEconomics:
    """One shift's figures. Money fields are $ from the episode's postings (integer cents); `books` is the
    transaction the run's ledger gets."""

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
    s_cust: float  # the share that priced the episode (books.share says by which rule)
    billed: float
    rebate: float
    captured_spread: float
    lam: float  # λ after this episode's dual ascent step
    error_target: float  # e* this episode was held to
    books: EpisodeBooks

    def as_dict(self) -> dict[str, float | int]:
        """The numeric figures (what /econ/summary carries); the books are left out."""
        return {k: v for k, v in asdict(self).items() if k != "books"}


def episode_economics(
    episode: int, units: int, errors: int, hours: float, share: PricedShare, dual: DualAscent, cfg: EconomicsConfig
) -> EpisodeEconomics:
    """Price one shift under the configured contract and take the dual ascent step on λ."""
    attempts = units + errors
    err = error_rate(errors, attempts)
    books = episode_books(units, errors, hours, share, cfg)
    wage = books.implied_wage
    target = dual.target
    lam = dual.update(err)
    return EpisodeEconomics(
        episode=episode, hours=hours, units=units, attempts=attempts, errors=errors, mp=marginal_product(units, hours),
        err_rate=err, implied_wage=wage, wage_parity=wage_parity(wage, cfg), profit=profit_per_hour(wage, cfg),
        spread=wage - cfg.human_wage, spread_value=cents_to_dollars(books.spread_value_cents), s_cust=share.share,
        billed=cents_to_dollars(books.billed_cents), rebate=cents_to_dollars(books.cents("rebate")),
        captured_spread=cents_to_dollars(books.captured_spread_cents), lam=lam, error_target=target, books=books,
    )


class EconomicsMonitor:
    """Folds /sim/events into episodes; keeps the running shift and a rolling window of finished ones."""

    def __init__(self, cfg: EconomicsConfig, share: PricedShare | None = None, window: int = 10,
                 vocabulary: EventVocabulary = EVENTS) -> None:
        self.cfg = cfg
        self.vocabulary = vocabulary  # the task's error kinds
        self.share = share if share is not None else price_share(PLATFORM_SITE, cfg.contract)  # prices each episode
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

    @property
    def s_cust(self) -> float:
        return self.share.share

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
            result = episode_economics(event.episode, self.units, self.errors, hours, self.share, self.dual,
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
        wage = implied_wage(mp, errors_per_hour=self.errors / hours, cfg=self.cfg)
        return {"mp": mp, "err_rate": err, "implied_wage": wage, "wage_parity": wage_parity(wage, self.cfg),
                "profit": profit_per_hour(wage, self.cfg), "spread": wage - self.cfg.human_wage}

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
        wage = implied_wage(mp, errors_per_hour=errors / hours, cfg=self.cfg)
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
