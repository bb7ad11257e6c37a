"""The contracts: who pays whom for one episode, as postings in integer cents (DESIGN.md, docs/economics.md).

Four accounts. Every posting moves a positive amount from a payer to a payee, so each posting, and each
episode's transaction, sums to zero over the accounts.

labor_value (the default: value pricing with a data rebate)
  labor    customer → platform  min(ŵ_r·h, w_h·h), the bill up to labor parity (ŵ_r floored at 0)
  spread   customer → platform  max(ŵ_r·h − w_h·h, 0), the bill above labor parity
  rebate   platform → customer  s_cust · spread (the customer's data share of the spread)
per_clean_unit (output-based, as RaaS vendors bill)
  units    customer → platform  price_per_unit · clean units
both
  energy   platform → energy_supplier  energy cost · h
  capital  platform → robot_capital    K/H · h (the robot-year cost per operating hour)
"""

from __future__ import annotations

from dataclasses import dataclass

from v2p.config import EconomicsConfig
from v2p.economics.labor import capital_cost_per_hour, errors_per_hour, implied_wage, marginal_product
from v2p.economics.money import to_cents
from v2p.economics.pricing import PricedShare
from v2p.economics.spread import spread_allocation

ACCOUNTS = ("customer", "platform", "energy_supplier", "robot_capital")
# kind -> (payer, payee); the order is the order of the postings in a transaction
POSTING_KINDS = {
    "labor": ("customer", "platform"),
    "spread": ("customer", "platform"),
    "units": ("customer", "platform"),
    "rebate": ("platform", "customer"),
    "energy": ("platform", "energy_supplier"),
    "capital": ("platform", "robot_capital"),
}
BILL_KINDS = ("labor", "spread", "units")  # what the customer is billed


@dataclass(frozen=True)
class Posting:
    kind: str
    payer: str
    payee: str
    cents: int

    def __post_init__(self) -> None:
        if (self.payer, self.payee) != POSTING_KINDS.get(self.kind):
            raise ValueError(f"a {self.kind!r} posting runs {POSTING_KINDS.get(self.kind)}, not "
                             f"{(self.payer, self.payee)}")
        if not isinstance(self.cents, int) or self.cents <= 0:
            raise ValueError(f"a posting moves a positive integer number of cents, got {self.cents!r}")


@dataclass(frozen=True)
class EpisodeBooks:
    """One episode's transaction before it is written: its facts, the priced share and its postings."""

    contract: str
    hours: float
    units: float
    errors: float
    implied_wage: float  # ŵ_r, $/h
    value_cents: int  # ŵ_r·h: the work's value to the customer (negative when errors cost more than units earn)
    parity_cents: int  # w_h·h: what a human at the benchmark wage costs for the same hours
    share: PricedShare
    postings: tuple[Posting, ...]

    @property
    def spread_value_cents(self) -> int:
        return self.value_cents - self.parity_cents

    @property
    def price_floored(self) -> bool:
        """The work's value is negative: under labor_value the customer is billed 0, not a negative price."""
        return self.value_cents < 0

    def cents(self, kind: str) -> int:
        return sum(p.cents for p in self.postings if p.kind == kind)

    @property
    def billed_cents(self) -> int:
        return sum(self.cents(k) for k in BILL_KINDS)

    @property
    def captured_spread_cents(self) -> int:
        """The spread the platform keeps: the bill above labor parity less the rebate (0 under per_clean_unit)."""
        return self.cents("spread") - self.cents("rebate")

    def net_cents(self, account: str) -> int:
        """What this episode adds to `account`'s balance (received − paid)."""
        return (sum(p.cents for p in self.postings if p.payee == account)
                - sum(p.cents for p in self.postings if p.payer == account))


def _posting(kind: str, cents: int) -> list[Posting]:
    payer, payee = POSTING_KINDS[kind]
    return [Posting(kind, payer, payee, cents)] if cents > 0 else []  # a zero amount moves nothing


def episode_books(units: float, errors: float, hours: float, share: PricedShare, cfg: EconomicsConfig) -> EpisodeBooks:
    """Price one episode (or an operating point's expected counts) under the configured contract."""
    if units < 0 or errors < 0:
        raise ValueError(f"units and errors must not be negative, got units={units} errors={errors}")
    wage = implied_wage(marginal_product(units, hours), errors_per_hour=errors_per_hour(errors, hours), cfg=cfg)
    alloc = spread_allocation(wage, hours, share.share, cfg)
    contract = cfg.contract
    postings: list[Posting] = []
    if contract.kind == "labor_value":
        billed = max(alloc.value_cents, 0)
        postings += _posting("labor", min(billed, alloc.parity_cents))
        postings += _posting("spread", max(alloc.spread_value_cents, 0))
        postings += _posting("rebate", alloc.rebate_cents)
    elif contract.kind == "per_clean_unit":
        postings += _posting("units", to_cents(contract.price_per_unit * units))
    else:
        raise ValueError(f"unknown contract kind {contract.kind!r}")
    postings += _posting("energy", to_cents(cfg.energy_cost_per_hour * hours))
    postings += _posting("capital", to_cents(capital_cost_per_hour(cfg) * hours))
    return EpisodeBooks(contract.kind, hours, float(units), float(errors), wage, alloc.value_cents, alloc.parity_cents,
                        share, tuple(postings))
