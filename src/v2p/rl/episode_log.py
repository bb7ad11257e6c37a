"""Per-episode records: the economics of the shift (when the env reports it), a CSV that is flushed row by row,
and TensorBoard scalars when tensorboard is installed."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from v2p.config import EconomicsConfig
from v2p.economics.labor import error_rate, implied_wage, marginal_product, profit_per_hour, spread_per_hour, wage_parity

# columns first in every CSV, in this order, when present (the seed's names); the rest follow as first seen
LEADING = ("episode", "steps", "total_steps", "return", "mp_r", "err_rate", "err_target", "w_hat_r", "w_h",
           "wage_parity", "profit", "spread", "spread_value", "lambda_dual")
SHIFT_KEYS = ("units", "attempts", "errors", "sim_time_s")


def has_shift_info(info: dict[str, Any]) -> bool:
    return all(k in info for k in SHIFT_KEYS)


def economics_columns(info: dict[str, Any], cfg: EconomicsConfig) -> dict[str, float]:
    """MP, error rate, implied wage, parity, profit and spread of one episode from its final (cumulative) info."""
    hours = float(info["sim_time_s"]) / 3600.0
    units, attempts, errors = float(info["units"]), float(info["attempts"]), float(info["errors"])
    err = error_rate(errors, attempts)
    mp = marginal_product(units, hours) if hours > 0 else 0.0
    wage = implied_wage(mp, errors_per_hour=errors / hours if hours > 0 else 0.0, cfg=cfg)
    spread = spread_per_hour(wage, cfg)
    return {"mp_r": mp, "err_rate": err, "w_hat_r": wage, "w_h": cfg.human_wage, "wage_parity": wage_parity(wage, cfg),
            "profit": profit_per_hour(wage, cfg), "spread": spread, "spread_value": spread * hours, "hours": hours,
            "units": units, "attempts": attempts, "errors": errors}


class EpisodeLog:
    """Appends one row per episode to `dir/episodes.csv` (flushed each row); optional TensorBoard scalars.

    `close()` releases the files; a later `write` reopens them and appends (SAC.learn may be called again)."""

    def __init__(self, directory: str | Path | None, tensorboard: bool = True):
        self.rows: list[dict[str, Any]] = []
        self.directory = None if directory is None else Path(directory)
        self.path = None if directory is None else self.directory / "episodes.csv"
        self.tensorboard = tensorboard
        self._columns: list[str] | None = None
        self._file = None
        self._writer: csv.DictWriter | None = None
        self._tb = None

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.path is None:
            return
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            first = self._columns is None
            if first:
                self._columns = [k for k in LEADING if k in row] + [k for k in row if k not in LEADING]
            self._file = self.path.open("w" if first else "a", newline="", encoding="utf-8")
            self._writer = csv.DictWriter(self._file, fieldnames=self._columns, restval="", extrasaction="ignore")
            if first:
                self._writer.writeheader()
            self._tb = self._open_tensorboard()
        self._writer.writerow({k: _fmt(v) for k, v in row.items()})
        self._file.flush()
        if self._tb is not None:
            step = int(row.get("total_steps", len(self.rows)))
            for k, v in row.items():
                if isinstance(v, (int, float)) and k not in ("episode", "total_steps") and math.isfinite(v):
                    self._tb.add_scalar(f"episode/{k}", v, step)

    def _open_tensorboard(self) -> Any:
        if not self.tensorboard:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional: the CSV has everything
            return None
        return SummaryWriter(str(self.directory))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def _fmt(v: Any) -> Any:
    return f"{v:.6g}" if isinstance(v, float) else v
