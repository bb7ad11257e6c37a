"""Which customer share s_cust prices an episode's data rebate, and the s_cust file that offers one.

A measured share (the counterfactual pair) or a predicted one (the online data-value estimator) comes with its
95% interval. It may set a price only when that interval is no wider than the contract's `max_share_interval`;
otherwise, or without an interval, the contract's `default_customer_share` prices the episode. At the platform's
own site there is no customer data: s_cust is 0. The ledger records, per episode, the rule that priced it, the
interval and the method (`PricedShare`), so no rebate is ever set by an interval wider than the limit unseen.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from v2p.config import ContractConfig, read_yaml_mapping
from v2p.errors import ConfigError

SHARE_SOURCES = ("measured", "estimator", "platform_site")  # what may offer a share
PRICING_RULES = ("measured", "estimator", "contract_default", "platform_site")  # what may set the price


@dataclass(frozen=True)
class ShareEvidence:
    """A share on offer: its value, its 95% interval (None: unknown), where it comes from and by what method."""

    share: float
    source: str
    interval: tuple[float, float] | None = None
    method: str = ""

    def __post_init__(self) -> None:
        if self.source not in SHARE_SOURCES:
            raise ValueError(f"s_cust source must be one of {', '.join(SHARE_SOURCES)}, got {self.source!r}")
        if not (math.isfinite(self.share) and 0.0 <= self.share <= 1.0):
            raise ValueError(f"s_cust must be a number in [0, 1], got {self.share!r}")
        if self.interval is not None:
            lo, hi = self.interval
            if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
                raise ValueError(f"s_cust interval must be two finite numbers low <= high, got {self.interval!r}")

    @property
    def width(self) -> float | None:
        return None if self.interval is None else self.interval[1] - self.interval[0]


@dataclass(frozen=True)
class PricedShare:
    """The share an episode is priced with, the rule that set it, and the evidence behind it (for the ledger)."""

    share: float
    rule: str
    interval: tuple[float, float] | None
    method: str
    offered: float | None  # the share the evidence offered (None at the platform's site)
    max_interval: float  # the contract's limit the evidence was held to

    def __post_init__(self) -> None:
        if self.rule not in PRICING_RULES:
            raise ValueError(f"pricing rule must be one of {', '.join(PRICING_RULES)}, got {self.rule!r}")
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"s_cust must lie in [0, 1], got {self.share}")


PLATFORM_SITE = ShareEvidence(0.0, "platform_site", None, "the platform's own site: no customer data")


def price_share(evidence: ShareEvidence | None, contract: ContractConfig) -> PricedShare:
    """(share, rule): the evidence's share when its interval is narrow enough, else the contract's default (also
    when no share is on offer: `evidence` None)."""
    if evidence is None:
        return PricedShare(contract.default_customer_share, "contract_default", None, "no share on offer", None,
                           contract.max_share_interval)
    if evidence.source == "platform_site":
        return PricedShare(0.0, "platform_site", evidence.interval, evidence.method or PLATFORM_SITE.method, None,
                           contract.max_share_interval)
    width = evidence.width
    if width is not None and width <= contract.max_share_interval:
        return PricedShare(evidence.share, evidence.source, evidence.interval, evidence.method, evidence.share,
                           contract.max_share_interval)
    why = "no interval" if width is None else f"interval {width:.3f} wider than {contract.max_share_interval:g}"
    method = f"{evidence.method} ({why})" if evidence.method else why
    return PricedShare(contract.default_customer_share, "contract_default", evidence.interval, method,
                       evidence.share, contract.max_share_interval)


def read_share_file(path: str | Path) -> ShareEvidence:
    """The s_cust file: `s_cust` in [0, 1], `source` (one of SHARE_SOURCES), optional `interval: [low, high]` and
    `method`. ConfigError names the file and the key."""
    path = Path(path)
    data = read_yaml_mapping(path)
    value = data.get("s_cust")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ConfigError(path, "s_cust", f"must be a number in [0, 1], got {value!r}")
    source = data.get("source")
    if source not in SHARE_SOURCES:
        raise ConfigError(path, "source", f"must be one of {', '.join(SHARE_SOURCES)}, got {source!r}")
    interval = data.get("interval")
    if interval is not None:
        ok = (isinstance(interval, list) and len(interval) == 2
              and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in interval)
              and interval[0] <= interval[1])
        if not ok:
            raise ConfigError(path, "interval", f"must be [low, high], two finite numbers low <= high, "
                              f"got {interval!r}")
        interval = (float(interval[0]), float(interval[1]))
    method = data.get("method", "")
    if not isinstance(method, str):
        raise ConfigError(path, "method", f"must be a string, got {method!r}")
    unknown = set(data) - {"s_cust", "source", "interval", "method"}
    if unknown:
        raise ConfigError(path, sorted(unknown)[0], "unknown key (known: interval, method, s_cust, source)")
    return ShareEvidence(float(value), source, interval, method)


def write_share_file(path: str | Path, evidence: ShareEvidence) -> Path:
    """Write the s_cust file atomically (econ_monitor_node re-reads it at each episode end)."""
    import yaml

    path = Path(path)
    data: dict[str, object] = {"s_cust": float(evidence.share), "source": evidence.source,
                               "interval": None if evidence.interval is None else list(evidence.interval),
                               "method": evidence.method}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False))
    os.replace(tmp, path)
    return path
