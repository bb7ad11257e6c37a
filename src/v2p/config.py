"""Typed, frozen configuration loaded from YAML, with errors that name the file and the key."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import yaml

from v2p.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"
DEFAULT_ECONOMICS = CONFIG_DIR / "economics.yaml"


@dataclass(frozen=True)
class SLAConfig:
    error_target: float = 0.06
    start_target: float | None = None
    curriculum_episodes: int = 0
    dual_step_size: float = 5.0


@dataclass(frozen=True)
class PlatformConfig:
    robot_hours_per_year: float = 1000.0
    cost_per_robot_year: float = 1700.0
    fleet_size: int = 1000


CONTRACT_KINDS = ("labor_value", "per_clean_unit")


@dataclass(frozen=True)
class ContractConfig:
    """How the customer is billed (DESIGN.md) and which s_cust may set its data rebate."""

    kind: str = "labor_value"  # labor_value: ŵ_r per robot-hour less the data rebate; per_clean_unit: a unit price
    price_per_unit: float | None = None  # $ per clean unit; required with (and only with) kind per_clean_unit
    default_customer_share: float = 0.0  # s_cust when no measured or predicted share is precise enough to price
    max_share_interval: float = 0.30  # widest s_cust 95% interval (hi − lo, share points) that may set a price


@dataclass(frozen=True)
class EconomicsConfig:
    unit_price: float = 0.30
    error_cost: float = 1.00
    energy_cost_per_hour: float = 0.10
    human_wage: float = 18.00
    sla: SLAConfig = SLAConfig()
    platform: PlatformConfig = PlatformConfig()
    contract: ContractConfig = ContractConfig()


T = TypeVar("T")


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file whose top level must be a mapping; every failure is a ConfigError naming the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, f"not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, None, f"top level must be a mapping, got {type(data).__name__}")
    return data


def build_dataclass(cls: type[T], data: Any, path: Path, prefix: str = "") -> T:
    """Build a (nested) frozen dataclass from a mapping, checking keys and types strictly."""
    if not isinstance(data, dict):
        raise ConfigError(path, prefix.rstrip(".") or None, f"must be a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in known:
            raise ConfigError(path, f"{prefix}{key}", f"unknown key (known: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for name in known & set(data):
        values[name] = _coerce(hints[name], data[name], path, f"{prefix}{name}")
    return cls(**values)


def _coerce(hint: Any, value: Any, path: Path, key: str) -> Any:
    if is_dataclass(hint):
        return build_dataclass(hint, value, path, f"{key}.")
    optional = hint == (float | None) or hint == (int | None)
    if value is None:
        if optional:
            return None
        raise ConfigError(path, key, "must not be empty")
    base = float if hint in (float, float | None) else int if hint in (int, int | None) else hint
    if base is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, key, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(path, key, f"must be finite, got {value!r}")
        return float(value)
    if base is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, key, f"must be an integer, got {value!r}")
        return value
    if base is str:
        if not isinstance(value, str):
            raise ConfigError(path, key, f"must be a string, got {value!r}")
        return value
    if base is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, key, f"must be true or false, got {value!r}")
        return value
    return value


def validate_economics(cfg: EconomicsConfig, path: Path) -> None:
    def need(ok: bool, key: str, problem: str) -> None:
        if not ok:
            raise ConfigError(path, key, problem)

    need(cfg.unit_price >= 0, "unit_price", f"must not be negative, got {cfg.unit_price}")
    need(cfg.error_cost >= 0, "error_cost", f"must not be negative, got {cfg.error_cost}")
    need(cfg.energy_cost_per_hour >= 0, "energy_cost_per_hour", f"must not be negative, got {cfg.energy_cost_per_hour}")
    need(cfg.human_wage > 0, "human_wage", f"must be positive, got {cfg.human_wage}")
    need(0 < cfg.sla.error_target < 1, "sla.error_target", f"must lie in (0, 1), got {cfg.sla.error_target}")
    if cfg.sla.start_target is not None:
        need(0 < cfg.sla.start_target < 1, "sla.start_target", f"must lie in (0, 1), got {cfg.sla.start_target}")
    need(cfg.sla.curriculum_episodes >= 0, "sla.curriculum_episodes", "must not be negative")
    need(cfg.sla.dual_step_size > 0, "sla.dual_step_size", f"must be positive, got {cfg.sla.dual_step_size}")
    need(cfg.platform.robot_hours_per_year > 0, "platform.robot_hours_per_year", "must be positive")
    need(cfg.platform.cost_per_robot_year >= 0, "platform.cost_per_robot_year", "must not be negative")
    need(cfg.platform.fleet_size >= 1, "platform.fleet_size", f"must be at least 1, got {cfg.platform.fleet_size}")
    c = cfg.contract
    need(c.kind in CONTRACT_KINDS, "contract.kind", f"must be one of {', '.join(CONTRACT_KINDS)}, got {c.kind!r}")
    if c.kind == "per_clean_unit":
        need(c.price_per_unit is not None and c.price_per_unit > 0, "contract.price_per_unit",
             f"must be a positive $ per clean unit with kind per_clean_unit, got {c.price_per_unit!r}")
    else:
        need(c.price_per_unit is None, "contract.price_per_unit", f"applies only to kind per_clean_unit (kind is "
             f"{c.kind}); leave it empty")
    need(0.0 <= c.default_customer_share <= 1.0, "contract.default_customer_share",
         f"must lie in [0, 1], got {c.default_customer_share}")
    need(c.max_share_interval >= 0, "contract.max_share_interval",
         f"must not be negative (it is a width in share points), got {c.max_share_interval}")


def load_economics_config(path: str | Path | None = None) -> EconomicsConfig:
    """Load config/economics.yaml (or `path`) into an EconomicsConfig; ConfigError names file and key."""
    path = Path(path) if path is not None else DEFAULT_ECONOMICS
    cfg = build_dataclass(EconomicsConfig, read_yaml_mapping(path), path)
    validate_economics(cfg, path)
    return cfg
